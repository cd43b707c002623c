using System.Globalization;
#if (isPipeline)
using System.Text.Json;
#endif
using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting;
#if (!isFunction)
using Microsoft.Extensions.Configuration;
#endif

namespace EdgePluginNamespace;

#if (isPlugin)
/// <summary>Classifies each frame and publishes the best labels with their confidence.</summary>
internal sealed class Classifier(InferenceSession model, IConfiguration configuration) : FramePlugin
{
    private readonly int _top = int.Parse(configuration["Plugin:top"] ?? "1", CultureInfo.InvariantCulture);

    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var best = Scores.Top(model.Run(frame, cancellationToken)[0], _top, model.Labels);
        foreach (var prediction in best)
        {
            await context.PublishAsync(
                "env.classification",
                prediction.Label,
                new() { ["confidence"] = prediction.Score.ToString("F3", CultureInfo.InvariantCulture), ["input"] = Path.GetFileName(frame.Source) },
                cancellationToken);
        }
    }
}
#elseif (isPipeline)
/// <summary>
/// A request-driven pipeline task: classifies the file a request names, writes the result into the
/// output folder and publishes it. See README.md for the AiCSD request and callback contract.
/// </summary>
internal sealed class Classifier(InferenceSession model, IConfiguration configuration) : FramePlugin
{
    private readonly int _top = int.Parse(configuration["Plugin:top"] ?? "1", CultureInfo.InvariantCulture);
    private readonly string _outputFolder = configuration["Pipeline:OutputFileFolder"] ?? "output";

    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var best = Scores.Top(model.Run(frame, cancellationToken)[0], _top, model.Labels);
        Directory.CreateDirectory(_outputFolder);
        var output = Path.Combine(_outputFolder, Path.GetFileNameWithoutExtension(frame.Source) + ".json");
        await using (var file = File.Create(output))
        await using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("InputFileLocation", frame.Source);
            json.WriteStartArray("Results");
            foreach (var prediction in best)
            {
                json.WriteStartObject();
                json.WriteString("Label", prediction.Label);
                json.WriteNumber("Confidence", Math.Round(prediction.Score, 4));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await context.PublishAsync(
            "pipeline.classification",
            best[0].Label,
            new() { ["confidence"] = best[0].Score.ToString("F3", CultureInfo.InvariantCulture), ["output"] = output },
            cancellationToken);
    }
}
#else
/// <summary>Classifies the one input an invocation names and publishes the best label: the function's whole output.</summary>
internal sealed class Classifier(InferenceSession model) : FramePlugin
{
    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var best = Scores.Top(model.Run(frame, cancellationToken)[0], 1, model.Labels)[0];
        await context.PublishAsync(
            "function.classification",
            best.Label,
            new() { ["confidence"] = best.Score.ToString("F3", CultureInfo.InvariantCulture) },
            cancellationToken);
    }
}
#endif
