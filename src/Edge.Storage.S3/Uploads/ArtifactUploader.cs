using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3;

/// <summary>
/// Uploads files (result images, AiCSD output files, pywaggle-style <c>upload_file</c> artifacts, new
/// model versions) to the S3-compatible store named in <c>Storage:S3</c>. Large files go up in parts,
/// several at once; a failed multipart upload is aborted so no orphaned parts keep costing storage.
/// Each object carries its SHA-256 in metadata (<c>x-amz-meta-sha256</c>), which model fetches verify.
/// </summary>
public sealed partial class ArtifactUploader
{
    private readonly IAmazonS3 _client;
    private readonly S3Options _options;
    private readonly ILogger _logger;

    internal ArtifactUploader(IAmazonS3 client, S3Options options, ILogger logger)
    {
        _client = client;
        _options = options;
        _logger = logger;
    }

    /// <summary>Uploads a file to <paramref name="key"/> in <paramref name="bucket"/> (default <c>Storage:S3:UploadBucket</c>).</summary>
    /// <exception cref="FormatException">The key is unsafe (absolute, <c>..</c>, backslash, control characters).</exception>
    /// <exception cref="InvalidOperationException">No bucket was given or configured.</exception>
    public async Task<UploadedObject> UploadFileAsync(string path, string key, string? bucket = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ObjectKeys.Validate(key, "Upload key");
        bucket ??= _options.UploadBucket ?? throw new InvalidOperationException($"No bucket for uploading {path}: pass one, or set Storage:S3:UploadBucket.");
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"Cannot upload {Path.GetFullPath(path)}: no such file.", path);
        }

        var sha256 = await LocalModelSource.HashAsync(info.FullName, cancellationToken).ConfigureAwait(false);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [S3ModelSource.Sha256Metadata] = sha256,
        };
        var result = info.Length >= _options.MultipartThreshold
            ? await UploadPartsAsync(info, bucket, key, meta, sha256, cancellationToken).ConfigureAwait(false)
            : await UploadWholeAsync(info, bucket, key, meta, sha256, cancellationToken).ConfigureAwait(false);
        LogUploaded(_logger, info.FullName, bucket, key, info.Length, result.Parts, sha256);
        return result;
    }

    private async Task<UploadedObject> UploadWholeAsync(FileInfo file, string bucket, string key, Dictionary<string, string> metadata, string sha256, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest { BucketName = bucket, Key = key, FilePath = file.FullName, UseChunkEncoding = false };
        foreach (var (name, value) in metadata)
        {
            request.Metadata[name] = value;
        }

        var response = await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        return new UploadedObject(bucket, key, file.Length, sha256, response.ETag, 1);
    }

    private async Task<UploadedObject> UploadPartsAsync(FileInfo file, string bucket, string key, Dictionary<string, string> metadata, string sha256, CancellationToken cancellationToken)
    {
        var partSize = Math.Max(_options.PartSize, 5L << 20);
        var start = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key };
        foreach (var (name, value) in metadata)
        {
            start.Metadata[name] = value;
        }

        var upload = await _client.InitiateMultipartUploadAsync(start, cancellationToken).ConfigureAwait(false);
        var count = (int)((file.Length + partSize - 1) / partSize);
        var etags = new PartETag[count];
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.UploadParallelism), CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var position = i * partSize;
                var response = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = i + 1,
                    FilePath = file.FullName,
                    FilePosition = position,
                    PartSize = Math.Min(partSize, file.Length - position),
                    UseChunkEncoding = false,
                }, ct).ConfigureAwait(false);
                etags[i] = new PartETag(i + 1, response.ETag);
            }).ConfigureAwait(false);
            var done = await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = [.. etags],
            }, cancellationToken).ConfigureAwait(false);
            return new UploadedObject(bucket, key, file.Length, sha256, done.ETag, count);
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = upload.UploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Uploaded {Path} to s3://{Bucket}/{Key}: {Size} bytes in {Parts} part(s), sha256 {Sha256}")]
    private static partial void LogUploaded(ILogger logger, string path, string bucket, string key, long size, int parts, string sha256);
}

/// <summary>An object the uploader stored.</summary>
/// <param name="Bucket">The bucket.</param>
/// <param name="Key">The object key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">The lower-case hex SHA-256 of the file, also stored as the object's <c>sha256</c> metadata.</param>
/// <param name="ETag">The ETag the store gave it.</param>
/// <param name="Parts">1 for a single request, otherwise the number of multipart parts.</param>
public sealed record UploadedObject(string Bucket, string Key, long Size, string Sha256, string ETag, int Parts)
{
    /// <summary>The object as an <c>s3://</c> model reference.</summary>
    public string Uri => $"s3://{Bucket}/{Key}";
}
