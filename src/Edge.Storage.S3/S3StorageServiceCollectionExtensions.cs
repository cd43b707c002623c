using Edge.Plugin;
using Edge.Storage;
using Edge.Storage.Caching;
using Edge.Storage.S3;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers S3-compatible stores with the model store.</summary>
public static class S3StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers the model store (<c>AddModelStore()</c>), the <c>s3</c> model source and
    /// <see cref="ArtifactUploader"/>, with <see cref="S3Options"/> bound from the <c>Storage:S3</c> section
    /// and validated at start-up. Calling it again registers nothing twice; its <paramref name="configure"/>
    /// still applies.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes the options after they are bound from configuration.</param>
    public static IServiceCollection AddS3Storage(this IServiceCollection services, Action<S3Options>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddModelStore();
        StorageServiceCollectionExtensions.AddOptionsOnce(services, static o => o.BindConfiguration(S3Options.SectionName), static (o, failures) => o.Validate(failures), configure);
        services.TryAddSingleton(sp => new S3Connection(sp.GetRequiredService<IOptions<S3Options>>().Value, StorageServiceCollectionExtensions.Logger(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, S3ModelSource>(sp => new S3ModelSource(
            sp.GetRequiredService<S3Connection>(),
            sp.GetRequiredService<ModelCache>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            StorageServiceCollectionExtensions.Logger(sp))));
        services.TryAddSingleton(sp => new ArtifactUploader(
            sp.GetRequiredService<S3Connection>().Client,
            sp.GetRequiredService<IOptions<S3Options>>().Value,
            StorageServiceCollectionExtensions.Logger(sp)));
        return services;
    }
}
