using Edge.Plugin.AiCsd;
using Edge.Plugin.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the AiCSD pipeline worker.</summary>
public static class AiCsdServiceCollectionExtensions
{
    /// <summary>
    /// Lets the plugin run as an AiCSD pipeline worker: with <c>-mode aicsd</c>, or
    /// <c>Triggers:AiCsd:Enabled=true</c>, it serves requests from the broker in <c>Triggers:AiCsd</c>
    /// instead of reading <c>-input</c>. Its settings are bound and validated at start; a bad one
    /// stops the worker with exit 3, naming its key. Calling it twice registers it once.
    /// </summary>
    public static IServiceCollection AddAiCsd(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<PluginTrigger>(AiCsdPluginTrigger.Instance));
        return services;
    }

    private sealed class AiCsdPluginTrigger : PluginTrigger
    {
        public static readonly AiCsdPluginTrigger Instance = new();

        public override string Mode => "aicsd";

        public override bool IsDetected(IConfiguration configuration) =>
            string.Equals(configuration[$"{AiCsdOptions.SectionName}:Enabled"], "true", StringComparison.OrdinalIgnoreCase);

        public override void AddServices(IServiceCollection services) => AiCsdTrigger.AddTo(services);
    }
}
