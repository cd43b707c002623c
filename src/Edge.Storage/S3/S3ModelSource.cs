using System.Net;
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
internal sealed partial class S3ModelSource(IAmazonS3 client, ModelCache cache, StorageOptions options, ILogger logger)
    : RemoteModelSource(cache, options, logger)
{
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
            head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = location.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"Model {location.Uri(key)} does not exist (bucket '{location.Bucket}', key '{key}').", location.Uri(key), e);
        }

        var sha256 = head.Metadata[Sha256Metadata]?.Trim().ToLowerInvariant();
        if (sha256 is not null && !CacheEntry.IsSha256(sha256))
        {
            throw new InvalidDataException($"Model {location.Uri(key)} carries metadata sha256='{sha256}', which is not a 64-digit hex SHA-256.");
        }

        var fileName = key[(key.LastIndexOf('/') + 1)..];
        return new RemoteObject(location.Uri(key), head.ETag ?? head.LastModified?.ToString("O") ?? "", head.ContentLength, string.IsNullOrEmpty(sha256) ? null : sha256, fileName);
    }

    protected override async Task<RemoteBody> OpenAsync(RemoteObject remote, long offset, CancellationToken cancellationToken)
    {
        var location = S3Location.Parse(remote.Location);
        var request = new GetObjectRequest { BucketName = location.Bucket, Key = location.Key };
        if (remote.Version.StartsWith('"'))
        {
            request.EtagToMatch = remote.Version;
        }

        if (offset > 0)
        {
            request.ByteRange = new ByteRange(offset, remote.Length is { } length ? length - 1 : long.MaxValue);
        }

        GetObjectResponse response;
        try
        {
            response = await client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new InvalidDataException($"Model {remote.Location} changed while it was being fetched (its ETag is no longer {remote.Version}); the next check fetches the new version.", e);
        }

        var start = offset > 0 && response.HttpStatusCode == HttpStatusCode.PartialContent ? offset : 0;
        return new RemoteBody(response.ResponseStream, start);
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
            page = await client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
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

        var objects = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = location.Bucket, Prefix = folder, MaxKeys = 10 }, cancellationToken).ConfigureAwait(false);
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
