using Microsoft.Extensions.Options;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Inputs;
using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Rest;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Plugin.AiCsd.Tests;

public sealed class AiCsdPipelineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("aicsd-").FullName;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CallbackServer _server = new();

    public AiCsdPipelineTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "input"));
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"), Path.Combine(_root, "input", "1.jpg"));
    }

    public void Dispose()
    {
        _server.Dispose();
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Publishes the image's size: a real decode of a real file, no model needed.</summary>
    private sealed class FrameSize : FramePlugin
    {
        public int Calls { get; private set; }

        protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            Calls++;
            await context.PublishAsync("image.width", (long)frame.Width, cancellationToken: cancellationToken);
            await context.PublishAsync("image.height", (long)frame.Height, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Publishes the request's Brightness parameter, or "unset" when the request has none.</summary>
    private sealed class BrightnessEcho : FramePlugin
    {
        protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
            await context.PublishAsync("param.brightness", context.Parameters.TryGetValue("Brightness", out var b) ? b : "unset", cancellationToken: cancellationToken);
    }

    private sealed class Broken : FramePlugin
    {
        protected internal override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("model exploded");
    }

    private AiCsdPipeline Pipeline(FramePlugin plugin, AiCsdStatusBody statusBody = AiCsdStatusBody.Text, string jobUpdateMethod = "PUT")
    {
        var options = new AiCsdOptions { StatusBody = statusBody, JobUpdateMethod = jobUpdateMethod, Callback = { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50), AttemptTimeout = TimeSpan.FromSeconds(30) } };
        options.AllowedRoots.Clear();
        options.AllowedRoots.Add(_root);
        return new AiCsdPipeline(AiCsdPipeline.ForPlugin(plugin, new FramePipeline(Options.Create(new InputOptions()), [], [], NullLogger<FramePipeline>.Instance), RunMode.Production, NullLogger.Instance), new CallbackClient(_http, options.Callback, NullLogger.Instance), options, NullLogger.Instance);
    }

    private byte[] Request(string input, string output, Uri? jobUpdate = null, Uri? status = null, Dictionary<string, string>? modelParams = null) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["InputFileLocation"] = input,
        ["OutputFileFolder"] = output,
        ["ModelParams"] = modelParams ?? new Dictionary<string, string> { ["Brightness"] = "0" },
        ["JobUpdateUrl"] = (jobUpdate ?? _server.Url("api/v1/job/pipeline/7c9f/15c4")).ToString(),
        ["PipelineStatusUrl"] = (status ?? _server.Url("api/v1/pipelineStatus/7c9f/15c4")).ToString(),
        ["GatewayIP"] = "192.168.0.20",
    }));

    [Fact]
    public void Parse_TakesTheSeedsExampleRequest()
    {
        var request = AiCsdRequest.Parse("""
            {
                "InputFileLocation":"/tmp/files/input/1.tiff",
                "OutputFileFolder":"/tmp/files/output",
                "ModelParams":{"Brightness":"0"},
                "JobUpdateUrl":"http://job-repository:59784/api/v1/job/pipeline/7c9fdbde-3b56-48af-a405-51d718cd9711/15c40f2d-68d2-4f09-9133-23f101b8b660",
                "PipelineStatusUrl":"http://task-launcher:59785/api/v1/pipelineStatus/7c9fdbde-3b56-48af-a405-51d718cd9711/15c40f2d-68d2-4f09-9133-23f101b8b660",
                "GatewayIP":"192.168.0.20"
            }
            """u8);

        Assert.Equal("/tmp/files/input/1.tiff", request.InputFileLocation);
        Assert.Equal("/tmp/files/output", request.OutputFileFolder);
        Assert.Equal("0", request.ModelParams["Brightness"]);
        Assert.Equal("task-launcher", request.PipelineStatusUrl.Host);
        Assert.Equal(59784, request.JobUpdateUrl.Port);
        Assert.Equal("192.168.0.20", request.GatewayIP);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("""{"OutputFileFolder":"/o","JobUpdateUrl":"http://a/","PipelineStatusUrl":"http://b/"}""", "InputFileLocation is missing")]
    [InlineData("""{"InputFileLocation":"/i","OutputFileFolder":"/o","JobUpdateUrl":"job-repository/x","PipelineStatusUrl":"http://b/"}""", "JobUpdateUrl must be an absolute http or https URL")]
    [InlineData("""{"InputFileLocation":"/i","OutputFileFolder":"/o","JobUpdateUrl":"http://a/","PipelineStatusUrl":"http://b/","ModelParams":[1]}""", "ModelParams must be an object")]
    public void Parse_NamesWhatIsWrong(string json, string expected)
    {
        var error = Assert.Throws<AiCsdRequestException>(() => AiCsdRequest.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_RunsThePlugin_WritesOutputs_ThenUpdatesTheJob_ThenReportsStatus()
    {
        var plugin = new FrameSize();
        var output = Path.Combine(_root, "output");

        var outcome = await Pipeline(plugin).HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), output), default);

        Assert.Null(outcome.Error);
        Assert.Equal(1, plugin.Calls);
        var results = Path.Combine(output, "1.results.json");
        using (var written = JsonDocument.Parse(await File.ReadAllTextAsync(results)))
        {
            Assert.Equal(["image.width", "image.height"], written.RootElement.EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        }

        var requests = _server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(("PUT", "/api/v1/job/pipeline/7c9f/15c4"), (requests[0].Method, requests[0].Path));
        Assert.Equal(("POST", "/api/v1/pipelineStatus/7c9f/15c4", "PipelineComplete"), (requests[1].Method, requests[1].Path, requests[1].Body));
        Assert.True(requests[0].At <= requests[1].At);

        using var job = JsonDocument.Parse(requests[0].Body);
        var root = job.RootElement;
        Assert.Equal(["Status", "QCFlags", "OutputFiles", "Results"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("PipelineComplete", root.GetProperty("Status").GetString());
        var file = Assert.Single(root.GetProperty("OutputFiles").EnumerateArray());
        Assert.Equal((output, "1.results.json", "json"), (file.GetProperty("DirName").GetString(), file.GetProperty("Name").GetString(), file.GetProperty("Extension").GetString()));
        Assert.Equal(["DirName", "Name", "Extension", "Status", "ErrorDetails", "Owner"], file.EnumerateObject().Select(p => p.Name));
        Assert.Matches("^image.width,[0-9]+;image.height,[0-9]+$", root.GetProperty("Results").GetString());
    }

    [Fact]
    public async Task ModelParams_ReachThePlugin_ForThatRequestOnly()
    {
        var pipeline = Pipeline(new BrightnessEcho());
        var input = Path.Combine(_root, "input", "1.jpg");
        var output = Path.Combine(_root, "output");

        var bright = await pipeline.HandleAsync(Request(input, output, modelParams: new() { ["Brightness"] = "42" }), default);
        var none = await pipeline.HandleAsync(Request(input, output, modelParams: []), default);

        Assert.Null(bright.Error);
        Assert.Null(none.Error);
        var jobUpdates = _server.Requests.Where(r => r.Method == "PUT").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Results").GetString()!).ToArray();
        Assert.Equal(["param.brightness,42", "param.brightness,unset"], jobUpdates);
    }

    [Theory]
    [InlineData("input/../../../etc/passwd", "InputFileLocation", " (which leads to '/etc/passwd')")]
    [InlineData("/etc/hostname", "InputFileLocation", "")]
    public async Task PathOutsideTheRoots_FailsThePipeline_WithoutRunningThePlugin(string input, string field, string leads)
    {
        var plugin = new FrameSize();
        var path = input.StartsWith('/') ? input : _root + "/" + input;

        var outcome = await Pipeline(plugin).HandleAsync(Request(path, Path.Combine(_root, "output")), default);

        Assert.Equal(0, plugin.Calls);
        Assert.Equal(AiCsdResponse.Failed, outcome.Response.Status);
        Assert.Contains($"{field} '{path}'{leads} is outside the allowed roots", outcome.Error, StringComparison.Ordinal);
        var requests = _server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Contains("outside the allowed roots", JsonDocument.Parse(requests[0].Body).RootElement.GetProperty("Results").GetString(), StringComparison.Ordinal);
        Assert.Equal("PipelineFailed", requests[1].Body);
    }

    [Fact]
    public async Task SymbolicLinkOutOfTheRoot_IsRejected()
    {
        var link = Path.Combine(_root, "input", "escape.jpg");
        File.CreateSymbolicLink(link, "/etc/hostname");

        var outcome = await Pipeline(new FrameSize()).HandleAsync(Request(link, Path.Combine(_root, "output")), default);

        Assert.Contains("outside the allowed roots", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutputFolderOutsideTheRoots_IsRejected()
    {
        var outcome = await Pipeline(new FrameSize()).HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), "/var/tmp/elsewhere"), default);

        Assert.Contains("OutputFileFolder '/var/tmp/elsewhere' is outside the allowed roots", outcome.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/var/tmp/elsewhere"));
    }

    [Fact]
    public async Task MalformedRequest_WithUsableCallbacks_IsReportedAsFailed()
    {
        var json = $$"""{"InputFileLocation":42,"JobUpdateUrl":"{{_server.Url("job")}}","PipelineStatusUrl":"{{_server.Url("status")}}"}""";

        var outcome = await Pipeline(new FrameSize()).HandleAsync(Encoding.UTF8.GetBytes(json), default);

        Assert.Contains("InputFileLocation must be a non-empty string, not 42", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("OutputFileFolder is missing", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(["/job", "/status"], _server.Requests.Select(r => r.Path));
        Assert.Equal("PipelineFailed", _server.Requests.Last().Body);
    }

    [Fact]
    public async Task IssueForm_PostsTheJobUpdate_ThenPostsTheStatusAsJson()
    {
        var outcome = await Pipeline(new FrameSize(), AiCsdStatusBody.Json, jobUpdateMethod: "POST").HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output")), default);

        Assert.Null(outcome.Error);
        Assert.Equal([("POST", "/api/v1/job/pipeline/7c9f/15c4"), ("POST", "/api/v1/pipelineStatus/7c9f/15c4")], _server.Requests.Select(r => (r.Method, r.Path)));
        foreach (var callback in _server.Requests)
        {
            Assert.Equal("application/json", callback.ContentType.Split(';')[0]);
            using var body = JsonDocument.Parse(callback.Body);
            Assert.Equal("PipelineComplete", body.RootElement.GetProperty("Status").GetString());
            Assert.Equal("1.results.json", Assert.Single(body.RootElement.GetProperty("OutputFiles").EnumerateArray()).GetProperty("Name").GetString());
        }
    }

    [Fact]
    public async Task PluginFailure_IsReportedAsFailed_WithTheReason()
    {
        var outcome = await Pipeline(new Broken(), AiCsdStatusBody.Json).HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output")), default);

        Assert.Contains("model exploded", outcome.Error, StringComparison.Ordinal);
        using var status = JsonDocument.Parse(_server.Requests.Last().Body);
        Assert.Equal("PipelineFailed", status.RootElement.GetProperty("Status").GetString());
        Assert.Contains("model exploded", status.RootElement.GetProperty("Results").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableJobUpdate_IsRetriedAndLogged_StatusSaysFailed_AndTheNextRequestIsServed()
    {
        var pipeline = Pipeline(new FrameSize());
        var dead = new Uri($"http://127.0.0.1:{Ports.Free()}/job");

        var first = await pipeline.HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output"), jobUpdate: dead), default);

        Assert.False(first.JobUpdated);
        Assert.True(first.StatusReported);
        Assert.Equal(AiCsdResponse.Failed, first.Response.Status);
        Assert.Contains("after 3 attempt(s)", first.Error, StringComparison.Ordinal);
        Assert.Equal("PipelineFailed", Assert.Single(_server.Requests).Body);

        var second = await pipeline.HandleAsync(Request(Path.Combine(_root, "input", "1.jpg"), Path.Combine(_root, "output")), default);

        Assert.Null(second.Error);
        Assert.Equal(AiCsdResponse.Complete, second.Response.Status);
        Assert.Equal("PipelineComplete", _server.Requests.Last().Body);
    }
}
