using System.Net;
using System.Net.Http.Headers;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Edge.Plugin;
using Edge.Storage.Caching;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3;

/// <summary>
/// Serves <c>s3://bucket/key</c> and <c>s3://bucket/prefix/latest[/file]</c> from any S3-compatible
/// store. The ETag is the version: an unchanged object costs one HEAD request per check.
/// </summary>
internal sealed partial class S3ModelSource(S3Connection connection, ModelCache cache, StorageOptions options, ILogger logger)
    : RemoteModelSource(cache, options, logger)
{
    // Made on first use: a plugin whose model is local never builds an S3 client.
    private IAmazonS3 Client => connection.Client;

    /// <summary>The object metadata key (<c>x-amz-meta-sha256</c>) whose hex SHA-256 the download must match.</summary>
    public const string Sha256Metadata = "sha256";

    public override IReadOnlyCollection<string> Schemes { get; } = ["s3"];

    protected override async Task<RemoteObject> ProbeAsync(ModelReference reference, CacheEntry? known, CancellationToken cancellationToken)
    {
        var location = S3Location.Parse(reference.Location);
        var key = location.LatestPrefix is null ? location.Key : await ResolveLatestAsync(location, cancellationToken).ConfigureAwait(false);
        GetObjectMetadataResponse head;
        try
        {
            head = await Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = location.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"Model {location.Uri(key)} does not exist (bucket '{location.Bucket}', key '{key}').", location.Uri(key), e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            // The SDK's own message names neither the object nor the store; its error code is enough, and
            // the SDK text is left out since it is not this package's to vouch for.
            throw new UnauthorizedAccessException($"Model {location.Uri(key)}: the store refused the request ({(int)e.StatusCode} {e.ErrorCode ?? "no error code"}); check Storage:S3:AccessKey and Storage:S3:SecretKey (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and the bucket's policy.", e);
        }

        var sha256 = head.Metadata[Sha256Metadata]?.Trim().ToLowerInvariant();
        if (sha256 is not null && !CacheEntry.IsSha256(sha256))
        {
            throw new InvalidDataException($"Model {location.Uri(key)} carries metadata sha256='{sha256}', which is not a 64-digit hex SHA-256.");
        }

        var fileName = key[(key.LastIndexOf('/') + 1)..];
        return new RemoteObject(location.Uri(key), head.ETag ?? head.LastModified?.ToString("O") ?? "", head.ContentLength, string.IsNullOrEmpty(sha256) ? null : sha256, fileName);
    }

    /// <remarks>
    /// The body streams through a plain HttpClient from a presigned URL rather than through the SDK's
    /// response stream: the same signed request, with large reads straight off the socket, which keeps a
    /// fetch at the speed of curl on the same link.
    /// </remarks>
    protected override async Task<RemoteBody> OpenAsync(RemoteObject remote, long offset, CancellationToken cancellationToken)
    {
        var location = S3Location.Parse(remote.Location);
        using var request = new HttpRequestMessage(HttpMethod.Get, await ObjectUrlAsync(location).ConfigureAwait(false));
        if (remote.Version.StartsWith('"') && EntityTagHeaderValue.TryParse(remote.Version, out var etag))
        {
            request.Headers.IfMatch.Add(etag);
        }

        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
        }

        var response = await connection.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            response.Dispose();
            throw new InvalidDataException($"Model {remote.Shown} changed while it was being fetched (its ETag is no longer {remote.Version}); the next check fetches the new version.");
        }

        if ((int)response.StatusCode >= 500)
        {
            response.Dispose();
            throw new HttpRequestException($"{remote.Shown} answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
        {
            var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
            response.Dispose();
            throw new InvalidOperationException($"Model {remote.Shown} answered HTTP {status} to a download.");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new RemoteBody(new Http.HttpModelSource.ResponseStream(response, stream), response.StatusCode == HttpStatusCode.PartialContent ? offset : 0);
    }

    private async Task<string> ObjectUrlAsync(S3Location location)
    {
        var endpoint = Client.Config.ServiceURL;
        if (connection.Anonymous)
        {
            var escaped = string.Join('/', location.Key.Split('/').Select(Uri.EscapeDataString));
            return endpoint is null
                ? $"https://{location.Bucket}.s3.{Client.Config.RegionEndpoint?.SystemName ?? "us-east-1"}.amazonaws.com/{escaped}"
                : $"{endpoint.TrimEnd('/')}/{location.Bucket}/{escaped}";
        }

        return await Client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = location.Bucket,
            Key = location.Key,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow.AddHours(1),
            Protocol = endpoint?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
        }).ConfigureAwait(false);
    }

    protected override bool IsTransient(Exception error)
    {
        for (var e = error; e is not null && e is not CacheWriteException; e = e.InnerException)
        {
            if (e is AmazonServiceException { StatusCode: >= HttpStatusCode.InternalServerError } || (e is AmazonClientException && e is not AmazonServiceException))
            {
                return true;
            }
        }

        return base.IsTransient(error);
    }

    /// <summary>Lists the folders under the prefix and picks the newest timestamp, then the object inside it.</summary>
    private async Task<string> ResolveLatestAsync(S3Location location, CancellationToken cancellationToken)
    {
        var prefix = location.LatestPrefix!;
        var folders = new List<string>();
        var request = new ListObjectsV2Request { BucketName = location.Bucket, Prefix = prefix, Delimiter = "/" };
        ListObjectsV2Response page;
        do
        {
            page = await Client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var common in page.CommonPrefixes ?? [])
            {
                var name = common[prefix.Length..].TrimEnd('/');
                var problem = name.Contains('/', StringComparison.Ordinal) ? "it is not a single folder name" : ObjectKeys.Problem(name);
                if (problem is not null)
                {
                    LogHostileFolder(Logger, location.Uri(common), problem);
                    continue;
                }

                folders.Add(name);
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);

        var newest = VersionFolders.Newest(folders)
            ?? throw new FileNotFoundException($"No timestamped version folder under {location.Uri(prefix)} (found {(folders.Count == 0 ? "no folders" : string.Join(", ", folders.Take(10)))}). Upload versions as {prefix}<timestamp>/<file>.");
        var folder = prefix + newest + "/";
        if (location.LatestRest.Length > 0)
        {
            return folder + location.LatestRest;
        }

        var objects = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = location.Bucket, Prefix = folder, MaxKeys = 10 }, cancellationToken).ConfigureAwait(false);
        var keys = (objects.S3Objects ?? []).Select(o => o.Key).Where(k => !k.EndsWith('/')).ToList();
        return keys.Count == 1
            ? ObjectKeys.Validate(keys[0], $"Object key in {location.Uri(folder)}")
            : throw new FileNotFoundException(keys.Count == 0
                ? $"The newest version folder {location.Uri(folder)} is empty."
                : $"The newest version folder {location.Uri(folder)} holds several objects ({string.Join(", ", keys.Select(k => k[folder.Length..]))}); name one, as in {location.Uri(prefix)}latest/{keys[0][folder.Length..]}.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring version folder {Folder}: {Problem}")]
    private static partial void LogHostileFolder(ILogger logger, string folder, string problem);
}
