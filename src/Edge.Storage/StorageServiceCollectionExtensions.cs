using Edge.Plugin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Edge.Storage;

/// <summary>Registers model sources with dependency injection.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers the model sources this package provides, so model references resolve through them.</summary>
    public static IServiceCollection AddModelStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IModelSource, LocalModelSource>());
        return services;
    }
}
