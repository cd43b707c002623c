using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Edge.Testing;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>
/// An AiCSD worker process: the probe plugin run with <c>-mode aicsd</c> against a real broker,
/// its stderr (the log) collected line by line, killable with SIGKILL.
/// </summary>
internal sealed class AiCsdWorker : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    /// <param name="settings">More environment for the worker (Triggers__AiCsd__... keys); a null value removes one of the defaults.</param>
    public AiCsdWorker(MosquittoBroker broker, string clientId, string root, string? sharedGroup = null, int? healthPort = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ClientId = clientId;
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll"), "worker", "-mode", "aicsd" })
        {
            info.ArgumentList.Add(arg);
        }

        var environment = new Dictionary<string, string?>
        {
            ["Triggers__AiCsd__Server"] = "127.0.0.1",
            ["Triggers__AiCsd__Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Triggers__AiCsd__ClientId"] = clientId,
            ["Triggers__AiCsd__SharedGroup"] = sharedGroup,
            ["Triggers__AiCsd__AllowedRoots__0"] = root,
            ["Triggers__AiCsd__Callback__MaxAttempts"] = "2",
            ["Triggers__AiCsd__Callback__InitialBackoff"] = "00:00:00.050",
            ["Triggers__AiCsd__Callback__MaxBackoff"] = "00:00:00.200",
            ["Triggers__AiCsd__Callback__AttemptTimeout"] = "00:00:30",
            ["Health__Port"] = healthPort?.ToString(CultureInfo.InvariantCulture),
            ["Health__Address"] = healthPort is null ? null : "127.0.0.1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            if (value is not null)
            {
                info.Environment[key] = value;
            }
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("the probe did not start");
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _log.Enqueue(e.Data);
            }
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string ClientId { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the process to end on its own; its exit code, or null if it still runs at the deadline.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        // The log is read asynchronously; WaitForExit without a timeout waits for the pipes to drain.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public string Log => string.Join('\n', _log);

    public int CountLog(string text) => _log.Count(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>
    /// Counts log lines once at least <paramref name="atLeast"/> have arrived (or 30 s passed): the worker
    /// logs after its callbacks return, through its console queue and a pipe, so a line may trail the
    /// callback a test has just seen.
    /// </summary>
    public async Task<int> CountLogAsync(string text, int atLeast = 1)
    {
        await Poll.TryUntilAsync(() => CountLog(text) >= atLeast, TimeSpan.FromSeconds(30));
        return CountLog(text);
    }

    /// <summary>Waits until the worker subscribed, as the broker saw it.</summary>
    public async Task WaitServingAsync(MosquittoBroker broker)
    {
        try
        {
            await broker.WaitForLogAsync($"Sending SUBACK to {ClientId}", TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nworker log:\n{Log}", e);
        }
    }

    /// <summary>kill -9: no chance to acknowledge, disconnect or flush anything.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit(30_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(30_000);
        }

        _process.Dispose();
    }

    /// <summary>A request in the seed's shape, its callbacks on <paramref name="server"/> under job <paramref name="job"/>.</summary>
    public static string Request(string input, string output, CallbackServer server, string job, Uri? jobUpdate = null, Dictionary<string, string>? modelParams = null) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["InputFileLocation"] = input,
        ["OutputFileFolder"] = output,
        ["ModelParams"] = modelParams ?? new Dictionary<string, string> { ["Brightness"] = "0" },
        ["JobUpdateUrl"] = (jobUpdate ?? server.Url($"api/v1/job/pipeline/{job}/task-1")).ToString(),
        ["PipelineStatusUrl"] = server.Url($"api/v1/pipelineStatus/{job}/task-1").ToString(),
        ["GatewayIP"] = "127.0.0.1",
    });

    /// <summary>Publishes with the real mosquitto_pub at QoS 1.</summary>
    public static void Publish(MosquittoBroker broker, string payload, string topic = "mqtt-export/pipeline/params") =>
        Publish(broker, Encoding.UTF8.GetBytes(payload), topic);

    /// <summary>Publishes these exact bytes (which need not be UTF-8) with the real mosquitto_pub at QoS 1.</summary>
    public static void Publish(MosquittoBroker broker, byte[] payload, string topic = "mqtt-export/pipeline/params")
    {
        var result = Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", broker.Port.ToString(CultureInfo.InvariantCulture), "-q", "1", "-t", topic, "-s"], standardInput: payload);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"mosquitto_pub failed: {result}");
        }
    }
}
