using System.Text;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Inputs;
using Edge.Plugin.Hosting.Rest;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>
/// Requests that once stopped a worker (text that is not UTF-8) or that no AiCSD sends (megabytes,
/// deep nesting, a huge array) are refused with a reason that names what was wrong, reported as
/// PipelineFailed where the callbacks could be read, and never echoed whole.
/// </summary>
public sealed class AiCsdHostileRequestTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("aicsd-hostile-").FullName;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CallbackServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private sealed class NeverCalled : FramePlugin
    {
        protected internal override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a refused request reached the plugin");
    }

    private AiCsdPipeline Pipeline()
    {
        var options = new AiCsdOptions { Callback = { MaxAttempts = 1, AttemptTimeout = TimeSpan.FromSeconds(30) } };
        options.AllowedRoots.Clear();
        options.AllowedRoots.Add(_root);
        return new AiCsdPipeline(AiCsdPipeline.ForPlugin(new NeverCalled(), new FramePipeline(Options.Create(new InputOptions()), [], [], NullLogger<FramePipeline>.Instance), RunMode.Production, NullLogger.Instance), new CallbackClient(_http, options.Callback, NullLogger.Instance), options, NullLogger.Instance);
    }

    private string Callbacks => $"\"JobUpdateUrl\":\"{_server.Url("job")}\",\"PipelineStatusUrl\":\"{_server.Url("status")}\"";

    [Fact]
    public async Task PathThatIsNotUtf8_IsReportedAsPipelineFailed_AndTheWorkerGoesOn()
    {
        var request = Encoding.UTF8.GetBytes($"{{\"InputFileLocation\":\"{_root}/in-\u0001.jpg\",\"OutputFileFolder\":\"{_root}/out\",{Callbacks}}}");
        // A lone continuation byte inside the path string: valid JSON structure, invalid UTF-8 text.
        request[Array.IndexOf(request, (byte)0x01)] = 0x80;

        var outcome = await Pipeline().HandleAsync(request, default);

        Assert.Contains("InputFileLocation must be a non-empty string, and is not even valid UTF-8 text", outcome.Error, StringComparison.Ordinal);
        var requests = _server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Contains("PipelineFailed", requests[0].Body, StringComparison.Ordinal);
        Assert.Equal("PipelineFailed", requests[1].Body);
    }

    [Fact]
    public async Task OversizedRequest_IsRefusedNamingTheLimit_BeforeItIsParsed()
    {
        var request = Encoding.UTF8.GetBytes($"{{\"InputFileLocation\":\"{_root}/1.jpg\",\"OutputFileFolder\":\"{_root}/out\",\"Pad\":\"{new string('x', 5_000_000)}\",{Callbacks}}}");

        var outcome = await Pipeline().HandleAsync(request, default);

        Assert.StartsWith($"The request is {request.Length} bytes, over the 65536-byte limit", outcome.Error, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task DeeplyNestedRequest_IsRefusedAsInvalidJson()
    {
        var request = Encoding.UTF8.GetBytes($"{{\"ModelParams\":{new string('[', 5000)}{new string(']', 5000)}}}");

        var outcome = await Pipeline().HandleAsync(request, default);

        Assert.Contains("not valid JSON", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("depth", outcome.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HugeArrayInAField_IsShownAsAPreview_NotEchoedWhole()
    {
        var array = "[" + string.Join(',', Enumerable.Repeat("1", 20_000)) + "]";
        var request = Encoding.UTF8.GetBytes($"{{\"InputFileLocation\":{array},\"OutputFileFolder\":\"{_root}/out\",{Callbacks}}}");

        var outcome = await Pipeline().HandleAsync(request, default);

        Assert.Contains($"InputFileLocation must be a non-empty string, not [1,1,", outcome.Error, StringComparison.Ordinal);
        Assert.Contains($"... ({array.Length} characters)", outcome.Error, StringComparison.Ordinal);
        Assert.True(outcome.Error!.Length < 1000, outcome.Error);
        Assert.All(_server.Requests, r => Assert.True(r.Body.Length < 2000, r.Body));
    }
}
