using System.Text.Json;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// SIGTERM while a frame (or tick) is in flight, sent to a real plugin process: the probe holds its
/// work until the test creates a file, so the signal certainly arrives mid-frame, and the work is let
/// go only once the plugin has logged that it is stopping.
/// </summary>
public sealed class ShutdownTests : IDisposable
{
    private static readonly string Images = Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data");
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-shutdown-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Release => Path.Combine(_dir, "release");

    private Dictionary<string, string?> Rest(Uri url, params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Publishing__Rest__Url"] = url.ToString(),
            ["Publishing__Rest__Spool__Directory"] = Path.Combine(_dir, "spool"),
            ["Publishing__Rest__Callback__AttemptTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static List<(string Name, long Value)> Received(CallbackServer server) =>
        [.. server.Requests.Select(r =>
        {
            using var json = JsonDocument.Parse(r.Body);
            return (json.RootElement.GetProperty("name").GetString()!, json.RootElement.GetProperty("val").GetInt64());
        })];

    /// <summary>Starts the probe, waits until its first unit of work is in flight, and sends SIGTERM.</summary>
    private static async Task<PluginProcess> TerminatedInFlightAsync(string[] args, Dictionary<string, string?> environment, string inFlight)
    {
        var plugin = PluginProcess.Start(args, environment);
        await plugin.WaitForLogAsync($"in flight: {inFlight}");
        plugin.Terminate();
        return plugin;
    }

    [Fact]
    public async Task Sigterm_MidFrame_TheFrameFinishesAndItsResultsAreDelivered()
    {
        using var server = new CallbackServer();
        using var plugin = await TerminatedInFlightAsync(["slow", Release, "ignore", "-input", Images], Rest(server.Url("/measurements")), "forest.png");

        // Only once the stop has begun may the frame finish: before the fix its publish was cancelled then.
        await plugin.WaitForLogAsync("Stopping: frame");
        await File.WriteAllTextAsync(Release, "");
        var exitCode = await plugin.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{plugin.Log}");
        Assert.Equal([("image.width", 320L), ("image.height", 240L)], Received(server));
        Assert.Equal(2, plugin.Output.Count(line => line.StartsWith("image.", StringComparison.Ordinal)));
        Assert.Contains("Finished: 1 frame(s), 0 failure(s)", plugin.Log);
        Assert.DoesNotContain("remain spooled", plugin.Log);
    }

    [Fact]
    public async Task Sigterm_MidFrame_WithTheEndpointDown_TheResultsAreSpooledAndTheNextRunSendsThem()
    {
        var closed = new Uri($"http://127.0.0.1:{Ports.Free()}/measurements");
        int exitCode;
        string log;
        using (var plugin = await TerminatedInFlightAsync(["slow", Release, "ignore", "-input", Images], Rest(closed), "forest.png"))
        {
            await plugin.WaitForLogAsync("Stopping: frame");
            await File.WriteAllTextAsync(Release, "");
            exitCode = await plugin.WaitForExitAsync();
            log = plugin.Log;
        }

        // Spooled is accepted, not lost: the exit code stays 0 and the log says what is held and where.
        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{log}");
        Assert.Contains("Finished: 1 frame(s), 0 failure(s)", log);
        Assert.Contains($"2 record(s) remain spooled in {Path.Combine(_dir, "spool")}", log);

        using var server = new CallbackServer();
        using var next = PluginProcess.Start(["plugin", "-input", Path.Combine(Images, "sky.jpg")], Rest(server.Url("/measurements")));
        exitCode = await next.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{next.Log}");
        Assert.Contains("2 record(s)", next.Log);
        Assert.Equal([("image.width", 320L), ("image.height", 240L), ("image.width", 320L), ("image.height", 240L)], Received(server));
    }

    [Fact]
    public async Task Sigterm_MidFrame_ThatOutlastsTheShutdownTimeout_IsCancelledAndCountedAsAFailure()
    {
        using var server = new CallbackServer();
        using var plugin = await TerminatedInFlightAsync(["slow", Release, "honour", "-input", Images], Rest(server.Url("/measurements"), ("shutdownTimeoutSeconds", "2")), "forest.png");

        var exitCode = await plugin.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Failed, $"exit {exitCode}. Log:\n{plugin.Log}");
        Assert.Contains("up to 2 s (the host's shutdown timeout)", plugin.Log);
        Assert.Contains("was cancelled after", plugin.Log);
        Assert.Contains("Finished: 1 frame(s), 1 failure(s)", plugin.Log);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Sigterm_MidFrame_ThatIgnoresCancellation_ExitsFailedSayingTheHostGaveUp()
    {
        using var server = new CallbackServer();
        using var plugin = await TerminatedInFlightAsync(["slow", Release, "ignore", "-input", Images], Rest(server.Url("/measurements"), ("shutdownTimeoutSeconds", "2")), "forest.png");

        var exitCode = await plugin.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Failed, $"exit {exitCode}. Log:\n{plugin.Log}");
        Assert.Contains("did not finish within the host's shutdown timeout (2 s)", plugin.Log);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Sigterm_MidTick_TheTickFinishesAndItsResultIsDelivered()
    {
        using var server = new CallbackServer();
        using var plugin = await TerminatedInFlightAsync(["timer", Release, "-interval", "0.1"], Rest(server.Url("/measurements")), "tick 1");

        await plugin.WaitForLogAsync("Stopping: tick 1");
        await File.WriteAllTextAsync(Release, "");
        var exitCode = await plugin.WaitForExitAsync();

        Assert.True(exitCode == ExitCodes.Success, $"exit {exitCode}. Log:\n{plugin.Log}");
        Assert.Equal([("tick.number", 1L)], Received(server));
        Assert.Contains("Finished: 1 frame(s), 0 failure(s)", plugin.Log);
    }
}
