using Edge.Inference;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers hot reload of the plugin's model.</summary>
public static class ModelReloadServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ReloadableModel"/> over the model <c>AddOnnxInference</c> made, and a
    /// background check of <c>Inference:Model</c> every <see cref="ModelReloadOptions.Interval"/>. A new
    /// version is fetched and verified by its model source, loaded off the frame path, then swapped in
    /// between frames. Plugins that want the new versions take <see cref="ReloadableModel"/> instead of
    /// <see cref="OnnxModel"/>.
    /// </summary>
    public static IServiceCollection AddModelReload(this IServiceCollection services, Action<ModelReloadOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ModelReloadOptions>().BindConfiguration(ModelReloadOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.Interval >= TimeSpan.Zero, "Inference:Reload:Interval must not be negative.").ValidateOnStart();
        services.TryAddSingleton(sp => new ReloadableModel(sp.GetRequiredService<OnnxModel>()));
        services.AddHostedService<ModelReloadService>();
        return services;
    }
}
