using System.Globalization;
using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting;
using Microsoft.Extensions.Configuration;

namespace EdgePluginNamespace;

#if (!isFunction)
#if (isPipeline)
/// <summary>
/// Classifies the image a request names and publishes the best labels with their confidence. In the
/// AiCSD worker mode the SDK writes what was published into the request's output folder and reports
/// it to AiCSD's callbacks (see README.md).
/// </summary>
#else
/// <summary>Classifies each frame and publishes the best labels with their confidence.</summary>
#endif
internal sealed class Classifier(OnnxModel model, IConfiguration configuration) : FramePlugin
{
    private readonly int _top = int.Parse(configuration["Plugin:top"] ?? "1", CultureInfo.InvariantCulture);

    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var best = Scores.Top(model.Run(frame, cancellationToken)[0], _top, model.Labels);
        foreach (var prediction in best)
        {
            await context.PublishAsync(
#if (isPipeline)
                "pipeline.classification",
#else
                "env.classification",
#endif
                prediction.Label,
                new() { ["confidence"] = prediction.Score.ToString("F3", CultureInfo.InvariantCulture), ["input"] = Path.GetFileName(frame.Source) },
                cancellationToken);
        }
    }
}
#else
/// <summary>
/// Classifies the one input an invocation names and publishes the best labels, one per line, best
/// first (as many as MSG's <c>predictions</c> asks): the function's whole output.
/// </summary>
internal sealed class Classifier(OnnxModel model, IConfiguration configuration) : FramePlugin
{
    private readonly int _predictions = int.Parse(configuration["Plugin:predictions"] ?? "1", CultureInfo.InvariantCulture);

    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        foreach (var prediction in Scores.Top(model.Run(frame, cancellationToken)[0], _predictions, model.Labels))
        {
            await context.PublishAsync(
                "function.classification",
                prediction.Label,
                new() { ["confidence"] = prediction.Score.ToString("F3", CultureInfo.InvariantCulture) },
                cancellationToken);
        }
    }
}
#endif
