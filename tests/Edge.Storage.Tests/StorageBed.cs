using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Edge.Plugin;
using Edge.Storage.Caching;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>
/// One "process" worth of Edge.Storage against a real s3rver: its own service provider (so in-memory
/// state starts empty, as after a restart) over a cache folder that may be shared with another bed.
/// </summary>
internal sealed class StorageBed : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    public StorageBed(S3Server server, string cacheDirectory, Action<StorageOptions>? configure = null)
    {
        CacheDirectory = cacheDirectory;
        var services = new ServiceCollection()
            .AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(Logs))
            .AddModelStore(o =>
            {
                o.S3.Endpoint = server.Endpoint;
                o.S3.AccessKey = S3Server.AccessKey;
                o.S3.SecretKey = S3Server.SecretKey;
                o.S3.UploadBucket = S3Server.Bucket;
                o.Cache.Directory = cacheDirectory;
                o.ResumeWindow = TimeSpan.FromSeconds(60);
                configure?.Invoke(o);
            });
        _provider = services.BuildServiceProvider();
    }

    public string CacheDirectory { get; }

    public LogCapture Logs { get; } = new();

    public IServiceProvider Services => _provider;

    public RemoteModelSource Source(string scheme) =>
        (RemoteModelSource)_provider.GetServices<IModelSource>().First(s => s.Schemes.Contains(scheme));

    public ArtifactUploader Uploader => _provider.GetRequiredService<ArtifactUploader>();

    public async Task<string> FetchAsync(string reference, CancellationToken cancellationToken = default)
    {
        var parsed = ModelReference.Parse(reference);
        return await Source(parsed.Scheme).GetLocalPathAsync(parsed, cancellationToken);
    }

    public string[] CachedHashes() =>
        [.. new DirectoryInfo(Path.Combine(CacheDirectory, "blobs")).GetDirectories().Select(d => d.Name).Order(StringComparer.Ordinal)];

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    /// <summary>An S3 client independent of the code under test, for putting test objects in place.</summary>
    public static AmazonS3Client Client(S3Server server) => new(
        new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey),
        new AmazonS3Config
        {
            ServiceURL = server.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public static async Task PutAsync(S3Server server, string key, byte[] content, string? sha256Metadata = null)
    {
        using var client = Client(server);
        var request = new PutObjectRequest { BucketName = S3Server.Bucket, Key = key, InputStream = new MemoryStream(content), UseChunkEncoding = false };
        if (sha256Metadata is not null)
        {
            request.Metadata["sha256"] = sha256Metadata;
        }

        await client.PutObjectAsync(request);
    }

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

/// <summary>Keeps every log line, so tests can assert what an operator would read.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => [.. _lines];

    public bool Contains(LogLevel level, string text) => _lines.Any(l => l.Level == level && l.Message.Contains(text, StringComparison.Ordinal));

    public override string ToString() => string.Join('\n', _lines.Select(l => $"{l.Level}: {l.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
