using Edge.Inference;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Inputs;
using Edge.Plugin.Hosting.Rest;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>A model that cannot take frames is the worker's fault, not the request's: it stops the worker.</summary>
public sealed class AiCsdModelTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-aicsd-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ModelThatCannotTakeFrames_InAnAiCsdRequest_StopsTheWorkerInsteadOfFailingEveryRequest()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "input"));
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"), Path.Combine(_folder, "input", "1.jpg"));
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var http = new HttpClient();
        var options = new AiCsdOptions();
        options.AllowedRoots.Clear();
        options.AllowedRoots.Add(_folder);
        var frames = new FramePipeline(Options.Create(new InputOptions()), [model], [], NullLogger<FramePipeline>.Instance);
        var pipeline = new AiCsdPipeline(AiCsdPipeline.ForPlugin(new RunsOnFrames(model), frames, RunMode.Production, NullLogger.Instance), new CallbackClient(http, options.Callback, NullLogger.Instance), options, NullLogger.Instance);
        var request = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["InputFileLocation"] = Path.Combine(_folder, "input", "1.jpg"),
            ["OutputFileFolder"] = Path.Combine(_folder, "output"),
            ["ModelParams"] = new Dictionary<string, string>(),
            // Never called: the worker stops before reporting, and the request waits for a better one.
            ["JobUpdateUrl"] = "http://127.0.0.1:9/job",
            ["PipelineStatusUrl"] = "http://127.0.0.1:9/status",
        }));

        var error = await Assert.ThrowsAsync<FramesRefusedException>(() => pipeline.HandleAsync(request, CancellationToken.None));

        Assert.Contains("add.onnx cannot take frames", error.Message, StringComparison.Ordinal);
    }

    private sealed class RunsOnFrames(OnnxModel model) : FramePlugin
    {
        protected internal override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            _ = model.Run(frame, cancellationToken);
            return ValueTask.CompletedTask;
        }
    }

}
