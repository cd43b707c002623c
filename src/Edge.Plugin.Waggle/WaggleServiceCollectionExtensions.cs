using Edge.Plugin;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Spool;
using Edge.Plugin.Waggle;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Waggle node support: publishing, uploads and subscriptions over the node's RabbitMQ.</summary>
public static class WaggleServiceCollectionExtensions
{
    /// <summary>
    /// On a Waggle node, publishes every measurement (and <c>upload_file</c> announcement) to the
    /// node's RabbitMQ through a durable spool, and delivers what other plugins publish to a
    /// <c>SubscriptionPlugin</c> (<see cref="IMeasurementSubscriber"/>), as pywaggle does.
    /// <para>
    /// It switches itself on only on a node, which the node's <c>WAGGLE_PLUGIN_HOST</c> variable
    /// reveals; elsewhere it registers nothing, and the host prints results to stdout. Pass
    /// <paramref name="force"/> to switch it on anyway (a test, or a RabbitMQ of your own); setting
    /// WAGGLE_PLUGIN_HOST=127.0.0.1 does the same without a code change.
    /// </para>
    /// <para>
    /// Settings come from pywaggle's environment variables, then the <c>Publishing:Waggle</c>
    /// configuration section, then <paramref name="configure"/>, and are validated at start-up; a bad
    /// one stops the plugin with its key named. Calling it again adds <paramref name="configure"/>
    /// and nothing else: each measurement is still published once.
    /// </para>
    /// </summary>
    /// <param name="services">The plugin's services.</param>
    /// <param name="configure">Changes the settings after configuration is applied.</param>
    /// <param name="force">Register even when WAGGLE_PLUGIN_HOST is not set.</param>
    public static IServiceCollection AddWaggle(this IServiceCollection services, Action<WaggleOptions>? configure = null, bool force = false) =>
        services.AddWaggle(configure, force, Environment.GetEnvironmentVariable);

    internal static IServiceCollection AddWaggle(this IServiceCollection services, Action<WaggleOptions>? configure, bool force, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(environment);
        if (!force && !WaggleOptions.IsOnNode(environment))
        {
            return services;
        }

        var options = services.AddOptions<WaggleOptions>();
        if (!services.Any(d => d.ServiceType == typeof(WagglePublisher)))
        {
            // Once only: a second environment pass would undo what an earlier configure set.
            options.Configure(o => o.ApplyEnvironment(environment))
                .BindConfiguration(WaggleOptions.SectionName)
                .PostConfigure(o => o.Spool.Directory ??= o.DefaultSpoolDirectory())
                .ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WaggleOptions>, WaggleOptionsValidator>());
        services.TryAddSingleton(CreatePublisher);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeasurementPublisher, WagglePublisher>(sp => sp.GetRequiredService<WagglePublisher>()));
        services.TryAddSingleton(sp => new WaggleSubscriber(sp.GetRequiredService<IOptions<WaggleOptions>>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<IMeasurementSubscriber>(sp => sp.GetRequiredService<WaggleSubscriber>());
        return services;
    }

    private static WagglePublisher CreatePublisher(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<WaggleOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(WaggleOptions.LogCategory);
        return new WagglePublisher(new SpooledDelivery(new WaggleLink(options), DurableSpool.Open(options.Spool, logger), logger));
    }
}
