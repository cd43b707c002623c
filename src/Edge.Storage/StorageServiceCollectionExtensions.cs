using Amazon.S3;
using Edge.Plugin;
using Edge.Storage.Caching;
using Edge.Storage.Http;
using Edge.Storage.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Storage;

/// <summary>Registers model sources with dependency injection.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the model sources this package provides (<c>file</c>, <c>s3</c>, <c>http(s)</c>) behind
    /// the verified cache, and <see cref="ArtifactUploader"/>, with <see cref="StorageOptions"/> bound from
    /// the <c>Storage</c> section and validated at start-up.
    /// </summary>
    public static IServiceCollection AddModelStore(this IServiceCollection services, Action<StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new ModelCache(settings.Cache.ResolveDirectory(), settings.Cache.MaxBytes, Logger(sp));
        });
        services.TryAddSingleton(sp => new S3Connection(sp.GetRequiredService<IOptions<StorageOptions>>().Value.S3, Logger(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, LocalModelSource>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, S3ModelSource>(sp =>
            new S3ModelSource(sp.GetRequiredService<S3Connection>(), sp.GetRequiredService<ModelCache>(), sp.GetRequiredService<IOptions<StorageOptions>>().Value, Logger(sp))));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, HttpModelSource>(sp =>
            new HttpModelSource(new HttpClient { Timeout = sp.GetRequiredService<IOptions<StorageOptions>>().Value.S3.Timeout }, sp.GetRequiredService<ModelCache>(), sp.GetRequiredService<IOptions<StorageOptions>>().Value, Logger(sp))));
        services.TryAddSingleton(sp => new ArtifactUploader(sp.GetRequiredService<S3Connection>().Client, sp.GetRequiredService<IOptions<StorageOptions>>().Value.S3, Logger(sp)));
        return services;
    }

    private static ILogger Logger(IServiceProvider services) =>
        (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger("Edge.Storage");

    /// <summary>One S3 client per process, made on first use so a plugin without s3:// references never builds one.</summary>
    internal sealed class S3Connection(S3Options options, ILogger logger) : IDisposable
    {
        private readonly Lazy<(AmazonS3Client Client, bool Anonymous)> _client = new(() => S3ClientFactory.Create(options, logger));
        private readonly Lazy<HttpClient> _http = new(() => new HttpClient(S3ClientFactory.CreateHandler(options)) { Timeout = options.Timeout });

        public IAmazonS3 Client => _client.Value.Client;

        /// <summary>Requests go unsigned: no credentials were configured.</summary>
        public bool Anonymous => _client.Value.Anonymous;

        /// <summary>Object bodies stream over this client, from presigned URLs, with the store's TLS settings.</summary>
        public HttpClient Http => _http.Value;

        public void Dispose()
        {
            if (_client.IsValueCreated)
            {
                _client.Value.Client.Dispose();
            }

            if (_http.IsValueCreated)
            {
                _http.Value.Dispose();
            }
        }
    }

    private sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
    {
        public ValidateOptionsResult Validate(string? name, StorageOptions options)
        {
            var failures = new List<string>();
            options.Validate(failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
