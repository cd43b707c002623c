using Amazon.S3;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3;

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
