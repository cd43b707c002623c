using System.Globalization;
using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting;

namespace EdgePlugin1;

/// <summary>Classifies each frame and publishes the best label with its confidence.</summary>
internal sealed class Classifier(InferenceSession model) : FramePlugin
{
    protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var scores = model.Run(frame, cancellationToken)[0];
        var best = Scores.Top(scores, 1, model.Labels)[0];
        await context.PublishAsync(
            "env.classification",
            best.Label,
            new() { ["confidence"] = best.Score.ToString("F3", CultureInfo.InvariantCulture), ["input"] = Path.GetFileName(frame.Source) },
            cancellationToken);
    }
}
