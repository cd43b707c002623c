using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Counts what happens to a live source and derives its <see cref="SourceHealth"/>; every
/// disconnect and reconnect is logged here, so none goes unseen.
/// </summary>
internal sealed partial class SourceHealthTracker(string source, TimeSpan stallTimeout, ILogger logger)
{
    // Failed attempts in a row after which a source counts as down rather than merely degraded.
    private const int DownAfterFailures = 3;
    private readonly object _gate = new();
    private long _frames;
    private long _dropped;
    private long _lastFrameNs;
    private long _disconnects;
    private long _reconnects;
    private int _failuresInRow;
    private bool _connected;
    private bool _everConnected;
    private long _disconnectedAtNs;
    private string? _lastError;

    public SourceHealth Health
    {
        get
        {
            lock (_gate)
            {
                return new SourceHealth(State(), _lastFrameNs, _frames, _dropped, _disconnects, _reconnects, _lastError);
            }
        }
    }

    public void Connected()
    {
        lock (_gate)
        {
            if (_connected)
            {
                return;
            }

            _connected = true;
            _failuresInRow = 0;
            if (_everConnected)
            {
                _reconnects++;
                var downFor = TimeSpan.FromTicks((Clock.NowNs() - _disconnectedAtNs) / 100);
                LogReconnected(logger, source, downFor.TotalSeconds, _reconnects, _disconnects);
            }
            else
            {
                LogConnected(logger, source);
            }

            _everConnected = true;
        }
    }

    public void Disconnected(string reason, TimeSpan retryIn)
    {
        lock (_gate)
        {
            if (_connected || _failuresInRow == 0)
            {
                _disconnectedAtNs = Clock.NowNs();
            }

            _connected = false;
            _failuresInRow++;
            _disconnects++;
            _lastError = reason;
            LogDisconnected(logger, source, reason, _disconnects, retryIn.TotalSeconds);
        }
    }

    public void Frame(long timestampNs)
    {
        Interlocked.Increment(ref _frames);
        Interlocked.Exchange(ref _lastFrameNs, timestampNs);
    }

    public void Dropped() => Interlocked.Increment(ref _dropped);

    private SourceState State()
    {
        if (!_connected)
        {
            return _failuresInRow >= DownAfterFailures ? SourceState.Down : SourceState.Degraded;
        }

        var last = Interlocked.Read(ref _lastFrameNs);
        return last > 0 && Clock.NowNs() - last <= stallTimeout.Ticks * 100 ? SourceState.Healthy : SourceState.Degraded;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Input {Source} connected")]
    private static partial void LogConnected(ILogger logger, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Input {Source} lost: {Reason} (disconnect #{Disconnects}); retrying in {Seconds:F1} s")]
    private static partial void LogDisconnected(ILogger logger, string source, string reason, long disconnects, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Input {Source} reconnected after {Seconds:F1} s down (reconnect #{Reconnects}, {Disconnects} disconnect(s) so far)")]
    private static partial void LogReconnected(ILogger logger, string source, double seconds, long reconnects, long disconnects);
}
