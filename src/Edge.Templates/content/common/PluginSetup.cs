using Edge.Plugin.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace EdgePluginNamespace;

/// <summary>
/// What the program and its unit tests share: where the model comes from, the plugin's own options and
/// the plugin. Program.cs adds where results go; the tests capture them instead.
/// </summary>
public static class PluginSetup
{
    /// <summary>Registers the model, the options and the plugin on <paramref name="builder"/>.</summary>
    public static EdgePluginBuilder Configure(EdgePluginBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Local files, and http(s):// models fetched once into a verified cache.
        builder.Services.AddModelStore();
#if (s3Model)
        // s3:// models, from the store in Storage:S3 (or the AWS_* variables).
        builder.Services.AddS3Storage();
#endif
        builder.Services.AddOnnxInference();
#if (!isFunction)
        builder.AddArgument("top", "How many of the best labels to publish for each frame.", "1");
#else
        // Abaco callers ask for "predictions" in MSG, as the Python functions this replaces take it.
        builder.AddArgument("predictions", "How many of the best labels to print, best first.", "1");
#endif
        builder.AddPlugin<Classifier>();
        return builder;
    }
}
