using Edge.Plugin.Mqtt;
using Edge.Plugin;
using Edge.Plugin.Hosting.Publishing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the MQTT publisher.</summary>
public static class MqttPublisherServiceCollectionExtensions
{
    /// <summary>
    /// Publishes every measurement to an MQTT broker, through a durable spool while the broker is
    /// unreachable, configured from <c>Publishing:Mqtt</c> and <paramref name="configure"/>. Settings
    /// are validated at start-up; a bad one stops the plugin with its configuration key named.
    /// Calling it twice registers one publisher.
    /// </summary>
    public static IServiceCollection AddMqttPublisher(this IServiceCollection services, Action<MqttPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MqttPublisherOptions>().BindConfiguration(MqttPublisherOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure(o =>
        {
            o.Spool.Directory ??= o.DefaultSpoolDirectory();
            o.Spool.MaxRecords = o.QueueCapacity;
        });
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MqttPublisherOptions>, MqttPublisherOptionsValidator>());
        services.TryAddSingleton<MqttPublisher>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeasurementPublisher, MqttPublisher>(sp => sp.GetRequiredService<MqttPublisher>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MqttPublisher>(sp => sp.GetRequiredService<MqttPublisher>()));
        return services;
    }
}
