using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Edge.Plugin.Hosting.Health;

/// <summary>
/// What the frame loop reports about itself: whether its source opened and reads, when a frame last
/// succeeded, and how many failed. The health endpoint turns it into probe answers.
/// </summary>
internal sealed class PluginHealth(IEnumerable<IMeasurementPublisher> publishers, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private string? _source;
    private string? _sourceError;
    private DateTimeOffset? _lastFrame;
    private long _frames;
    private long _failures;
    private bool _finished;

    public void SourceOpened(string description)
    {
        lock (_gate)
        {
            _source = description;
            _sourceError = null;
        }
    }

    public void SourceFailed(string reason)
    {
        lock (_gate)
        {
            _sourceError = reason;
            _failures++;
        }
    }

    public void FrameSucceeded()
    {
        lock (_gate)
        {
            _lastFrame = _time.GetUtcNow();
            _sourceError = null;
            _frames++;
        }
    }

    public void FrameFailed()
    {
        lock (_gate)
        {
            _failures++;
        }
    }

    public void Finished()
    {
        lock (_gate)
        {
            _finished = true;
        }
    }

    /// <summary>Alive unless frames stopped succeeding for longer than <paramref name="staleAfter"/> after the first one.</summary>
    public HealthReport Live(TimeSpan staleAfter)
    {
        lock (_gate)
        {
            var stale = staleAfter > TimeSpan.Zero && _lastFrame is { } last && !_finished && _time.GetUtcNow() - last > staleAfter;
            return Report(!stale, stale ? $"no frame has succeeded for more than {staleAfter.TotalSeconds:F0} s" : "alive");
        }
    }

    /// <summary>Ready once the source is open and its last read worked.</summary>
    public HealthReport Ready()
    {
        lock (_gate)
        {
            var ready = _source is not null && _sourceError is null && !_finished;
            var status = ready ? "ready" : _finished ? "finished" : _source is null ? "starting" : "source failing";
            return Report(ready, status);
        }
    }

    private HealthReport Report(bool healthy, string status)
    {
        long? backlog = null;
        foreach (var publisher in publishers)
        {
            if (publisher is IPublisherBacklog spool)
            {
                backlog = (backlog ?? 0) + spool.Backlog;
            }
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", status);
            json.WriteStartObject("source");
            json.WriteString("input", _source);
            json.WriteBoolean("healthy", _source is not null && _sourceError is null);
            json.WriteString("error", _sourceError);
            json.WriteEndObject();
            json.WriteString("lastFrame", _lastFrame?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("frames", _frames);
            json.WriteNumber("failures", _failures);
            if (backlog is { } b)
            {
                json.WriteNumber("publisherBacklog", b);
            }
            else
            {
                json.WriteNull("publisherBacklog");
            }

            json.WriteEndObject();
        }

        return new HealthReport(healthy, Encoding.UTF8.GetString(buffer.ToArray()));
    }
}

/// <summary>A probe's answer: healthy or not, and the JSON body that says why.</summary>
internal readonly record struct HealthReport(bool Healthy, string Json);
