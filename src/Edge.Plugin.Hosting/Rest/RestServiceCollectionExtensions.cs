using Edge.Plugin;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Rest;
using Edge.Plugin.Hosting.Secrets;
using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the REST publisher.</summary>
public static class RestServiceCollectionExtensions
{
    /// <summary>
    /// Sends every measurement to an HTTP endpoint as JSON, spooled while the endpoint is down.
    /// Settings come from the <c>Publishing:Rest</c> configuration section, then <paramref name="configure"/>,
    /// and are validated at start: a missing URL or a bad method stops the plugin with exit 3, naming the key.
    /// Calling it twice registers one publisher.
    /// </summary>
    public static IServiceCollection AddRestPublisher(this IServiceCollection services, Action<RestPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RestPublisherOptions>().BindConfiguration(RestPublisherOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RestPublisherOptions>, RestPublisherOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<RestPublisherOptions>>().Value;
            var url = settings.Url!;
            settings.Spool.Directory ??= Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "rest-" + string.Concat($"{url.Host}-{url.Port}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')));
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Plugin.Rest");
            var client = new CallbackClient(CallbackClient.CreateHttpClient(settings.Callback), settings.Callback, logger);
            return new RestPublisher(new SpooledDelivery(new RestLink(client, settings.HttpMethod, url), DurableSpool.Open(settings.Spool, logger), logger));
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeasurementPublisher, RestPublisher>(sp => sp.GetRequiredService<RestPublisher>()));
        return services;
    }

    private sealed class RestPublisherOptionsValidator : IValidateOptions<RestPublisherOptions>
    {
        public ValidateOptionsResult Validate(string? name, RestPublisherOptions options)
        {
            const string S = RestPublisherOptions.SectionName;
            var failures = new List<string>();
            if (options.Url is null)
            {
                failures.Add($"{S}:Url is not set: give the endpoint measurements are sent to, e.g. Publishing__Rest__Url=http://collector:8080/measurements.");
            }
            else if (!options.Url.IsAbsoluteUri || options.Url.Scheme is not ("http" or "https"))
            {
                failures.Add($"{S}:Url '{Redaction.Url(options.Url)}' must be an absolute http:// or https:// URL.");
            }

            if (options.Method.ToUpperInvariant() is not ("POST" or "PUT"))
            {
                failures.Add($"{S}:Method must be POST or PUT; got '{options.Method}'.");
            }

            failures.AddRange(options.Spool.Problems($"{S}:Spool"));

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
