using System.Diagnostics.CodeAnalysis;
using Edge.Plugin;
using Edge.Storage;
using Edge.Storage.Caching;
using Edge.Storage.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the model store: the verified cache and the local and HTTP(S) model sources.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <c>file</c> and <c>http</c>/<c>https</c> model sources behind the verified cache, with
    /// <see cref="StorageOptions"/> bound from the <c>Storage</c> section and validated at start-up. Calling
    /// it again registers nothing twice; its <paramref name="configure"/> still applies. <c>s3://</c>
    /// references and uploads come with <c>AddS3Storage()</c> from the Edge.Storage.S3 package.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    public static IServiceCollection AddModelStore(this IServiceCollection services, Action<StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddOptionsOnce(services, static o => o.BindConfiguration(StorageOptions.SectionName), static (o, failures) => o.Validate(failures), configure);
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new ModelCache(settings.Cache.ResolveDirectory(), settings.Cache.MaxBytes, Logger(sp));
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, LocalModelSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, HttpModelSource>(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new HttpModelSource(new HttpClient { Timeout = settings.RequestTimeout }, sp.GetRequiredService<ModelCache>(), settings, Logger(sp));
        }));
        return services;
    }

    /// <summary>The one log category of every model source, whichever package registers it.</summary>
    internal static ILogger Logger(IServiceProvider services) =>
        (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("Edge.Storage");

    /// <summary>
    /// Binds <typeparamref name="TOptions"/> and validates it at start-up, unless an earlier call already
    /// did: bound twice, configured list items would be appended twice. <paramref name="configure"/> applies
    /// on every call. (The caller binds, because the binding source generator needs the concrete type.)
    /// </summary>
    internal static void AddOptionsOnce<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services, Action<OptionsBuilder<TOptions>> bind, Action<TOptions, List<string>> validate, Action<TOptions>? configure)
        where TOptions : class
    {
        var options = services.AddOptions<TOptions>();
        if (!services.Any(d => d.ServiceType == typeof(IValidateOptions<TOptions>) && d.ImplementationInstance is FailureList<TOptions>))
        {
            bind(options);
            options.ValidateOnStart();
            services.AddSingleton<IValidateOptions<TOptions>>(new FailureList<TOptions>(validate));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }
    }

    /// <summary>Runs an options class's own checks, each of which names its key.</summary>
    private sealed class FailureList<TOptions>(Action<TOptions, List<string>> validate) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var failures = new List<string>();
            validate(options, failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
