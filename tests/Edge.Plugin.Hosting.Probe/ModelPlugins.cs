using System.Globalization;
using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.OnnxRuntime;

/// <summary>
/// Plugins that run the configured model (AddOnnxInference, -model): <c>model</c> runs it on each frame
/// and publishes every output, <c>model-tensors</c> is a frame plugin that builds the tensors of a
/// two-input model (add.onnx) itself, <c>model-timer</c> a timer plugin that runs such a model, <c>detect</c>
/// runs a one-class YOLOv8 detector and publishes each box it finds.
/// </summary>
internal static class ModelPlugins
{
    public static readonly string[] Modes = ["model", "model-tensors", "model-timer", "detect"];

    public static async Task<int> RunAsync(string mode, string[] args)
    {
        var builder = EdgePlugin.CreateBuilder(args);
        var model = Array.IndexOf(args, "-model") is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : string.Empty;
        if (model.Contains("://", StringComparison.Ordinal) && !model.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddS3Storage();
        }

        builder.Services.AddOnnxInference();
        _ = mode switch
        {
            "model" => builder.AddPlugin<ModelOnFrames>(),
            "model-tensors" => builder.AddPlugin<SumOfFrameSize>(),
            "detect" => builder.AddPlugin<BoxesOnFrames>(),
            _ => builder.AddPlugin<SumOnTimer>(),
        };
        await using var plugin = builder.Build();
        return await plugin.RunAsync();
    }

    internal static string Join(ReadOnlySpan<float> values) =>
        string.Join(",", values.ToArray().Select(v => v.ToString("F6", CultureInfo.InvariantCulture)));

    internal static float[] Add(OnnxModel model, float[] a, float[] b)
    {
        using var left = OrtValue.CreateTensorValueFromMemory(a, [1, 4]);
        using var right = OrtValue.CreateTensorValueFromMemory(b, [1, 4]);
        using var outputs = model.Run(new Dictionary<string, OrtValue> { ["a"] = left, ["b"] = right });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}

/// <summary>Publishes each output of the model run on the frame, as comma-separated values.</summary>
internal sealed class ModelOnFrames(OnnxModel model) : FramePlugin
{
    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var result = model.Run(frame, cancellationToken);
        for (var i = 0; i < result.Count; i++)
        {
            await context.PublishAsync($"model.{result.Outputs[i].Name}", ModelPlugins.Join(result[i]), cancellationToken: cancellationToken);
        }
    }
}

/// <summary>A frame plugin whose model is no image model: it makes the tensors from the frame itself.</summary>
internal sealed class SumOfFrameSize(OnnxModel model) : FramePlugin
{
    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
        await context.PublishAsync("model.sum", ModelPlugins.Join(ModelPlugins.Add(model, [frame.Width, frame.Height, 0, 0], [1, 1, 1, 1])), cancellationToken: cancellationToken);
}

/// <summary>A timer plugin running a model that is no image model.</summary>
internal sealed class SumOnTimer(OnnxModel model) : TimerPlugin
{
    protected internal override async ValueTask TickAsync(PluginContext context, CancellationToken cancellationToken) =>
        await context.PublishAsync("model.sum", ModelPlugins.Join(ModelPlugins.Add(model, [1, 2, 3, 4], [10, 20, 30, 40])), cancellationToken: cancellationToken);
}

/// <summary>
/// Publishes the frame's size, the source image's size and each detected box as x1,y1,x2,y2: what a
/// detector plugin publishes, with the sizes a test needs to tell which coordinates the box is in.
/// </summary>
internal sealed class BoxesOnFrames(OnnxModel model) : FramePlugin
{
    private readonly Detection[] _found = new Detection[8];

    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var result = model.Run(frame, cancellationToken);
        var decoder = new YoloDecoder(YoloFormat.Yolov8, Math.Max(1, model.Labels.Count));
        var count = decoder.Decode(result[0], result.Placement, model.Labels, _found);
        await context.PublishAsync("frame.size", ModelPlugins.Join([frame.Width, frame.Height]), cancellationToken: cancellationToken);
        await context.PublishAsync("frame.source_size", ModelPlugins.Join([frame.SourceWidth, frame.SourceHeight]), cancellationToken: cancellationToken);
        for (var i = 0; i < count; i++)
        {
            var box = _found[i].Box;
            await context.PublishAsync($"detection.{_found[i].Label}", ModelPlugins.Join([box.X1, box.Y1, box.X2, box.Y2]), cancellationToken: cancellationToken);
        }
    }
}
