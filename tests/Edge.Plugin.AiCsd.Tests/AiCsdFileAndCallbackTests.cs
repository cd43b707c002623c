using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Rest;
using Edge.Testing;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>
/// Requests whose files or callbacks are hostile: a folder link out of the root, a FIFO, a device,
/// an oversized input, a callback redirected off http or round in a loop. Each must end as a
/// reported <c>PipelineFailed</c> with a message naming the file or URL and why, logged without a
/// stack trace, and the pipeline status must be sent whatever became of the job update.
/// </summary>
public sealed class AiCsdFileAndCallbackTests : IDisposable
{
    // A guard against a hang (a FIFO opened blocking would never return), not a measure of speed.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly string _root = Directory.CreateTempSubdirectory("aicsd-files-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("aicsd-outside-").FullName;
    private readonly HttpClient _http;
    private readonly CallbackServer _server = new();
    private readonly CollectingLogger _log = new();
    private readonly AiCsdOptions _options;
    private readonly ITestOutputHelper _output;

    public AiCsdFileAndCallbackTests(ITestOutputHelper output)
    {
        _output = output;
        _options = PipelineHarness.Options(_root);
        _http = CallbackClient.CreateHttpClient(_options.Callback);
        Directory.CreateDirectory(Path.Combine(_root, "input"));
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"), Path.Combine(_root, "input", "1.jpg"));
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"), Path.Combine(_outside, "1.jpg"));
    }

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private static byte[] Request(string input, string output, Uri jobUpdate, Uri status) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["InputFileLocation"] = input,
        ["OutputFileFolder"] = output,
        ["ModelParams"] = new Dictionary<string, string>(),
        ["JobUpdateUrl"] = jobUpdate.ToString(),
        ["PipelineStatusUrl"] = status.ToString(),
    }));

    private async Task<AiCsdOutcome> HandleAsync(CountingFrameSize plugin, string input, string output, Uri? jobUpdate = null, Uri? status = null)
    {
        var pipeline = PipelineHarness.Create(plugin, _options, _http, _log);
        var request = Request(input, output, jobUpdate ?? _server.Url("job"), status ?? _server.Url("status"));
        var outcome = await pipeline.HandleAsync(request, CancellationToken.None).WaitAsync(HangGuard);
        _output.WriteLine(_log.Text);
        return outcome;
    }

    private void AssertReportedFailed(AiCsdOutcome outcome, string reason)
    {
        Assert.Equal(AiCsdResponse.Failed, outcome.Response.Status);
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
        var calls = _server.Requests.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Contains(reason, JsonDocument.Parse(calls[0].Body).RootElement.GetProperty("Results").GetString(), StringComparison.Ordinal);
        Assert.Equal("PipelineFailed", calls[1].Body);
        AssertLoggedOnceWithoutStackTrace(reason);
    }

    private void AssertLoggedOnceWithoutStackTrace(string reason)
    {
        var lines = _log.Lines.Where(l => l.Message.Contains(reason, StringComparison.Ordinal)).ToArray();
        var line = Assert.Single(lines, l => l.Level == LogLevel.Error);
        Assert.False(line.HasException, line.Message);
        Assert.DoesNotContain("   at ", _log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InputThroughALinkedFolder_PointingOutOfTheRoot_IsRefused()
    {
        var linked = Path.Combine(_root, "input", "shared");
        Directory.CreateSymbolicLink(linked, _outside);
        var plugin = new CountingFrameSize();

        var outcome = await HandleAsync(plugin, Path.Combine(linked, "1.jpg"), Path.Combine(_root, "output"));

        Assert.Equal(0, plugin.Calls);
        AssertReportedFailed(outcome, $"InputFileLocation '{linked}/1.jpg' (which leads to '{_outside}/1.jpg') is outside the allowed roots");
    }

    [Fact]
    public async Task OutputThroughALinkedFolder_PointingOutOfTheRoot_IsRefused_AndNothingIsWrittenThere()
    {
        var linked = Path.Combine(_root, "results");
        Directory.CreateSymbolicLink(linked, _outside);
        var before = Directory.GetFileSystemEntries(_outside).Order().ToArray();
        var plugin = new CountingFrameSize();

        var outcome = await HandleAsync(plugin, Path.Combine(_root, "input", "1.jpg"), Path.Combine(linked, "job-7"));

        Assert.Equal(0, plugin.Calls);
        AssertReportedFailed(outcome, $"OutputFileFolder '{linked}/job-7' (which leads to '{_outside}/job-7') is outside the allowed roots");
        Assert.Equal(before, Directory.GetFileSystemEntries(_outside).Order().ToArray());
    }

    [Fact]
    public async Task FifoInput_IsAnsweredPipelineFailed_WithoutOpeningIt()
    {
        var fifo = Path.Combine(_root, "input", "pipe.jpg");
        var made = Tool.Run("mkfifo", [fifo]);
        Assert.True(made.ExitCode == 0, made.ToString());

        // No writer ever opens the FIFO: opening it to read would block this test until the hang guard.
        var outcome = await HandleAsync(new CountingFrameSize(), fifo, Path.Combine(_root, "output"));

        AssertReportedFailed(outcome, $"InputFileLocation '{fifo}' is a FIFO (named pipe), not a regular file; only regular files are read.");
    }

    [Fact]
    public async Task FolderInput_IsRefusedAsNotARegularFile()
    {
        var folder = Path.Combine(_root, "input");

        var outcome = await HandleAsync(new CountingFrameSize(), folder, Path.Combine(_root, "output"));

        AssertReportedFailed(outcome, $"InputFileLocation '{folder}' is a folder, not a regular file");
    }

    [Fact]
    public async Task DeviceInput_EvenUnderAnAllowedRoot_IsRefusedAsNotARegularFile()
    {
        _options.AllowedRoots.Add("/dev");

        var outcome = await HandleAsync(new CountingFrameSize(), "/dev/zero", Path.Combine(_root, "output"));

        AssertReportedFailed(outcome, "InputFileLocation '/dev/zero' is a character device, not a regular file");
    }

    [Fact]
    public async Task InputOverTheSizeLimit_IsRefusedNamingItsSizeAndTheLimit()
    {
        var input = Path.Combine(_root, "input", "1.jpg");
        _options.MaxInputBytes = 100;
        var plugin = new CountingFrameSize();

        var outcome = await HandleAsync(plugin, input, Path.Combine(_root, "output"));

        Assert.Equal(0, plugin.Calls);
        AssertReportedFailed(outcome, $"InputFileLocation '{input}' is {new FileInfo(input).Length} bytes, over the 100-byte limit for an input (Triggers:AiCsd:MaxInputBytes).");
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/job")]
    public async Task JobUpdateRedirectedOffHttp_FailsClearly_AndTheStatusIsStillSent(string location)
    {
        using var redirecting = new ScriptedHttpServer((context, _) =>
        {
            ScriptedHttpServer.Redirect(context, location);
            return Task.CompletedTask;
        });

        var outcome = await HandleAsync(new CountingFrameSize(), Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output"), jobUpdate: redirecting.Url("job"));

        // Not retried: the same redirect would come back.
        Assert.Single(redirecting.Requests);
        Assert.False(outcome.JobUpdated);
        Assert.True(outcome.StatusReported);
        Assert.Equal("PipelineFailed", Assert.Single(_server.Requests).Body);
        var reason = $"was redirected (302) to {location}; only http and https redirects are followed.";
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
        AssertLoggedOnceWithoutStackTrace(reason);
    }

    [Fact]
    public async Task JobUpdateRedirectLoop_IsFollowedABoundedNumberOfTimes_AndTheStatusIsStillSent()
    {
        using var looping = new ScriptedHttpServer((context, request) =>
        {
            ScriptedHttpServer.Redirect(context, request.Path, status: 307);
            return Task.CompletedTask;
        });

        var outcome = await HandleAsync(new CountingFrameSize(), Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output"), jobUpdate: looping.Url("loop"));

        // The first request and MaxRedirects (5) more, then no retry: the loop would come back.
        Assert.Equal(1 + _options.Callback.MaxRedirects, looping.Requests.Count);
        Assert.True(outcome.StatusReported);
        Assert.Equal("PipelineFailed", Assert.Single(_server.Requests).Body);
        var reason = $"was redirected more than {_options.Callback.MaxRedirects} time(s), the last to {looping.Url("loop")}";
        Assert.Contains(reason, outcome.Error, StringComparison.Ordinal);
        AssertLoggedOnceWithoutStackTrace(reason);
    }

    [Fact]
    public async Task ErrorAnswerThatNeverEnds_IsCutAtTheReadTimeout_AndTheStatusIsStillSent()
    {
        _options.Callback.ReadTimeout = TimeSpan.FromMilliseconds(300);
        using var release = new CancellationTokenSource();
        using var stalling = new ScriptedHttpServer(async (context, _) =>
        {
            // Headers and a little body, then silence: a reader without an inactivity timeout waits for ever.
            context.Response.StatusCode = 500;
            context.Response.SendChunked = true;
            var start = Encoding.UTF8.GetBytes("busy, try ");
            await context.Response.OutputStream.WriteAsync(start);
            await context.Response.OutputStream.FlushAsync();
            await Task.Delay(Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            context.Response.Abort();
        });

        var outcome = await HandleAsync(new CountingFrameSize(), Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output"), jobUpdate: stalling.Url("job"));
        await release.CancelAsync();

        Assert.Equal(_options.Callback.MaxAttempts, stalling.Requests.Count);
        Assert.Contains("500 Internal Server Error: busy, try", outcome.Error, StringComparison.Ordinal);
        Assert.True(outcome.StatusReported);
        Assert.Equal("PipelineFailed", Assert.Single(_server.Requests).Body);
    }

    [Fact]
    public async Task HugeErrorAnswer_IsReadOnlyAsFarAsTheMessageNeeds()
    {
        using var flooding = new ScriptedHttpServer((context, _) => ScriptedHttpServer.AnswerAsync(context, 500, new string('x', 8 * 1024 * 1024)));

        var outcome = await HandleAsync(new CountingFrameSize(), Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output"), jobUpdate: flooding.Url("job"));

        Assert.Contains("500 Internal Server Error: xxxx", outcome.Error, StringComparison.Ordinal);
        Assert.True(outcome.Error!.Length < 2000, outcome.Error);
        Assert.True(outcome.StatusReported);
    }
}
