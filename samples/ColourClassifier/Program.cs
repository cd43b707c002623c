using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting;
using Microsoft.Extensions.DependencyInjection;

var builder = EdgePlugin.CreateBuilder(args);
builder.Services.AddOnnxInference();
// On a Waggle node (WAGGLE_PLUGIN_HOST set) results go to the node's RabbitMQ; elsewhere to stdout.
builder.Services.AddWaggle();
builder.AddPlugin<ColourClassifier.DominantColour>();
await using var plugin = builder.Build();
return await plugin.RunAsync();

namespace ColourClassifier
{
    /// <summary>Publishes the dominant colour of each frame and the model's confidence in it.</summary>
    internal sealed class DominantColour(OnnxModel model) : FramePlugin
    {
        protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            var probabilities = model.Run(frame, cancellationToken)["probabilities"];
            var best = Scores.Top(probabilities, 1, model.Labels)[0];
            await context.PublishAsync(
                "env.colour.dominant",
                best.Label,
                new() { ["confidence"] = best.Score.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), ["input"] = Path.GetFileName(frame.Source) },
                cancellationToken);
        }
    }
}
