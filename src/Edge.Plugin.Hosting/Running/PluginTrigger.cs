using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Hosting;

/// <summary>
/// A way to drive a frame plugin other than its <c>-input</c> stream, such as an AiCSD worker's
/// requests. A platform package registers one as an instance (<c>services.AddAiCsd()</c>); the builder
/// picks it when <c>-mode</c> names it or, with no <c>-mode</c>, when it detects its platform, and
/// then registers its services in place of the frame loop.
/// </summary>
internal abstract class PluginTrigger
{
    /// <summary>The <c>-mode</c> value that asks for it, such as <c>aicsd</c>.</summary>
    public abstract string Mode { get; }

    /// <summary>Whether configuration alone asks for it, with no <c>-mode</c> given.</summary>
    public abstract bool IsDetected(IConfiguration configuration);

    /// <summary>Registers what runs the plugin; the frame loop is not registered.</summary>
    public abstract void AddServices(IServiceCollection services);
}
