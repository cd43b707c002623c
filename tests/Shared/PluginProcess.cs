using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Edge.Testing;

/// <summary>
/// A plugin program running as a real child process (<c>dotnet Edge.Plugin.Hosting.Probe.dll ...</c>),
/// its stdout (results) and stderr (the log) collected line by line, stoppable with SIGTERM as a
/// container runtime or systemd stops it.
/// </summary>
internal sealed class PluginProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PluginProcess(Process process)
    {
        _process = process;
    }

    public static string Probe => Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

    public int Id => _process.Id;

    public IReadOnlyList<string> Output => [.. _stdout];

    public string Log => string.Join('\n', _stderr);

    /// <summary>Starts the probe with <paramref name="args"/>; <paramref name="environment"/> adds variables (a null value removes one).</summary>
    public static PluginProcess Start(IEnumerable<string> args, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Probe);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Off a node, in development mode, whatever the machine running the tests has set.
        foreach (var variable in new[] { "WAGGLE_PLUGIN_HOST", "WAGGLE_APP_ID", "PYWAGGLE_LOG_DIR", "MSG" })
        {
            info.Environment.Remove(variable);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the probe did not start");
        var plugin = new PluginProcess(process);
        process.OutputDataReceived += (_, e) => Collect(e.Data, plugin._stdout, plugin._stdoutClosed);
        process.ErrorDataReceived += (_, e) => Collect(e.Data, plugin._stderr, plugin._stderrClosed);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return plugin;
    }

    /// <summary>Waits until a log line contains <paramref name="text"/>; the timeout's message carries the log so far.</summary>
    public Task WaitForLogAsync(string text, TimeSpan? timeout = null) =>
        Poll.UntilAsync(
            () =>
            {
                if (HasLogged(text))
                {
                    return true;
                }

                // Read to its end: the line will never come.
                return _stderrClosed.Task.IsCompleted
                    ? throw new InvalidOperationException($"The plugin closed its log without '{text}'. Log:\n{Log}")
                    : false;
            },
            timeout ?? TimeSpan.FromMinutes(1),
            () => $"the plugin logs '{text}'. Log:\n{Log}");

    public bool HasLogged(string text) => _stderr.Any(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>Sends SIGTERM, as <c>docker stop</c>, Kubernetes and systemd do first.</summary>
    public void Terminate()
    {
        var result = Tool.Run("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: {result}");
        }
    }

    /// <summary>Waits for the process to exit, with all its output read, and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The plugin (pid {_process.Id}) did not exit. Log:\n{Log}");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Collect(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
        }
        else
        {
            lines.Enqueue(line);
        }
    }
}
