namespace Edge.Storage.S3;

/// <summary>
/// How to reach the S3-compatible store. Each setting left empty falls back to the standard AWS
/// environment variable named on it, so the same container runs against AWS, MinIO or s3rver.
/// </summary>
public sealed class S3Options
{
    /// <summary>The configuration section these options are bound from (environment variables such as <c>Storage__S3__Endpoint</c>).</summary>
    public const string SectionName = "Storage:S3";

    /// <summary>The endpoint URL, such as <c>http://minio:9000</c>. Falls back to <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_ENDPOINT_URL</c>, <c>AWS_S3_ENDPOINT</c>; empty means AWS itself.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The region. Falls back to <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>, then <c>us-east-1</c>.</summary>
    public string? Region { get; set; }

    /// <summary>The access key. Falls back to <c>AWS_ACCESS_KEY_ID</c>; with no key at all, requests are anonymous.</summary>
    public string? AccessKey { get; set; }

    /// <summary>The secret key. Falls back to <c>AWS_SECRET_ACCESS_KEY</c>.</summary>
    public string? SecretKey { get; set; }

    /// <summary>A session token for temporary credentials. Falls back to <c>AWS_SESSION_TOKEN</c>.</summary>
    public string? SessionToken { get; set; }

    /// <summary>Addresses buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>; MinIO and s3rver need it. Default true.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>A PEM file holding the CA that signed the store's certificate, for a private MinIO with its own CA.</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>Accepts any server certificate. Only for a test bench: it removes the protection TLS gives; a warning is logged.</summary>
    public bool AcceptAnyServerCertificate { get; set; }

    /// <summary>How long one request may take before it counts as failed. Default 100 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>How often the client itself retries a failed request before the cache's own resume logic takes over. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Uploads: the bucket artifacts go to when a call names none.</summary>
    public string? UploadBucket { get; set; }

    /// <summary>Uploads: files at least this large go up in parts. Default 64 MiB.</summary>
    public long MultipartThreshold { get; set; } = 64L << 20;

    /// <summary>Uploads: the size of each part (S3 needs at least 5 MiB). Default 16 MiB.</summary>
    public long PartSize { get; set; } = 16L << 20;

    /// <summary>Uploads: how many parts are in flight at once. Default 4.</summary>
    public int UploadParallelism { get; set; } = 4;

    internal void Validate(List<string> failures)
    {
        if (!string.IsNullOrEmpty(Endpoint) && !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
        {
            failures.Add($"Storage:S3:Endpoint '{(Endpoint.Contains('@', StringComparison.Ordinal) ? "***" : Endpoint)}' is not an absolute URL such as http://127.0.0.1:9000.");
        }

        if (CaCertificateFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            failures.Add($"Storage:S3:CaCertificateFile '{ca}' does not exist.");
        }

        // HttpClient would refuse it only when the first s3:// fetch builds the client, long after start-up.
        if (Timeout <= TimeSpan.Zero || Timeout.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"Storage:S3:Timeout must be positive and under 24 days; got {Timeout}.");
        }

        if (MaxRetries < 0)
        {
            failures.Add($"Storage:S3:MaxRetries must be 0 or more; got {MaxRetries}.");
        }
    }
}
