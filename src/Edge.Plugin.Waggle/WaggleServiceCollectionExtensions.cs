using Edge.Plugin;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Spool;
using Edge.Plugin.Waggle;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Waggle publisher.</summary>
public static class WaggleServiceCollectionExtensions
{
    /// <summary>
    /// Publishes every measurement to a Waggle node's RabbitMQ. Settings come from pywaggle's
    /// environment variables, then the <c>Publishing:Waggle</c> configuration section, then
    /// <paramref name="configure"/>. In production mode with WAGGLE_* variables set, the host adds
    /// it by itself.
    /// </summary>
    public static IServiceCollection AddWagglePublisher(this IServiceCollection services, Action<WaggleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp =>
        {
            var options = WaggleOptions.FromEnvironment();
            sp.GetService<IConfiguration>()?.GetSection(WaggleOptions.SectionName).Bind(options);
            configure?.Invoke(options);
            options.Spool.Directory ??= options.DefaultSpoolDirectory();
            return options;
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<WaggleOptions>();
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Plugin.Waggle");
            var spool = DurableSpool.Open(options.Spool, logger);
            return new WagglePublisher(new SpooledDelivery(new WaggleLink(options), spool, logger));
        });
        services.AddSingleton<IMeasurementPublisher>(sp => sp.GetRequiredService<WagglePublisher>());
        return services;
    }
}
