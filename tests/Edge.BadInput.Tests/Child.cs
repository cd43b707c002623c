using System.Diagnostics;
using System.Text;

namespace Edge.BadInput.Tests;

/// <summary>Runs a program as a child process and observes it, killing it when its time runs out.</summary>
internal static class Child
{
    public static string Probe => Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

    public static string ManifestCheck => Path.Combine(AppContext.BaseDirectory, "edge-manifest.dll");

    /// <summary>The probe as a development-mode plugin off any node, with <paramref name="environment"/> added.</summary>
    public static Func<TimeSpan, Observation> Dotnet(string assembly, string[] args, IReadOnlyDictionary<string, string?>? environment = null) =>
        timeout => Run("dotnet", [assembly, .. args], environment, timeout);

    public static Observation Run(string program, string[] args, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Off a node and out of Abaco, whatever the machine running the tests has set.
        foreach (var variable in new[] { "WAGGLE_PLUGIN_HOST", "WAGGLE_APP_ID", "PYWAGGLE_LOG_DIR", "MSG", "_abaco_actor_id" })
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

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = Drain(process.StandardOutput, output);
        var stderr = Drain(process.StandardError, output);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
            return Observation.Hung(Text(output));
        }

        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(30));
        return new Observation(process.ExitCode, Text(output));
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    // Both streams into one text, a line at a time, so that a program writing gigabytes is still read
    // (and cut off) rather than filling the test's memory.
    private static async Task Drain(StreamReader reader, StringBuilder output)
    {
        const int MaxChars = 256 * 1024;
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (output)
            {
                if (output.Length < MaxChars)
                {
                    output.AppendLine(line.Length > 4096 ? line[..4096] + "..." : line);
                }
            }
        }
    }
}
