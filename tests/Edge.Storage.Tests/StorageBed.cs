using System.Security.Cryptography;
using Edge.Plugin;
using Edge.Storage.Caching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>
/// One "process" worth of Edge.Storage: its own service provider (so in-memory state starts empty, as
/// after a restart) over a cache folder that may be shared with another bed. <c>add</c> registers more,
/// such as the S3 source.
/// </summary>
internal sealed class StorageBed : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    public StorageBed(string cacheDirectory, Action<StorageOptions>? configure = null, Action<IServiceCollection>? add = null)
    {
        CacheDirectory = cacheDirectory;
        var services = Configured([])
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(Logs))
            .AddModelStore(o =>
            {
                o.Cache.Directory = cacheDirectory;
                o.ResumeWindow = TimeSpan.FromSeconds(60);
                configure?.Invoke(o);
            });
        add?.Invoke(services);
        _provider = services.BuildServiceProvider();
    }

    public string CacheDirectory { get; }

    public LogCapture Logs { get; } = new();

    public IServiceProvider Services => _provider;

    public RemoteModelSource Source(string scheme) =>
        (RemoteModelSource)_provider.GetServices<IModelSource>().First(s => s.Schemes.Contains(scheme));

    public async Task<string> FetchAsync(string reference, CancellationToken cancellationToken = default)
    {
        var parsed = ModelReference.Parse(reference);
        return await Source(parsed.Scheme).GetLocalPathAsync(parsed, cancellationToken);
    }

    public string[] CachedHashes() =>
        [.. new DirectoryInfo(Path.Combine(CacheDirectory, "blobs")).GetDirectories().Select(d => d.Name).Order(StringComparer.Ordinal)];

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    /// <summary>A service collection whose configuration holds only <paramref name="settings"/> (keys such as <c>Storage:ReadTimeout</c>).</summary>
    public static IServiceCollection Configured(Dictionary<string, string?> settings) => new ServiceCollection()
        .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
