using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Rest;
using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting;

/// <summary>Registers the REST publisher.</summary>
public static class RestServiceCollectionExtensions
{
    /// <summary>
    /// Sends every measurement to an HTTP endpoint as JSON, spooled while the endpoint is down.
    /// Settings come from the <c>Publishing:Rest</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddRestPublisher(this IServiceCollection services, Action<RestPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp =>
        {
            var options = new RestPublisherOptions();
            sp.GetService<IConfiguration>()?.GetSection(RestPublisherOptions.SectionName).Bind(options);
            configure?.Invoke(options);
            var url = options.Url ?? throw new InvalidOperationException($"{RestPublisherOptions.SectionName}:Url is not set: give the endpoint measurements are sent to.");
            options.Spool.Directory ??= Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "rest-" + string.Concat($"{url.Host}-{url.Port}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')));
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Plugin.Rest");
            var client = new CallbackClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options.Callback, logger);
            return new RestPublisher(new SpooledDelivery(new RestLink(client, options.HttpMethod, url), DurableSpool.Open(options.Spool, logger), logger));
        });
        services.AddSingleton<IMeasurementPublisher>(sp => sp.GetRequiredService<RestPublisher>());
        return services;
    }
}
