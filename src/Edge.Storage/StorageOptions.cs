namespace Edge.Storage;

/// <summary>
/// Settings for remote model sources and the model cache, bound from the <c>Storage</c> section
/// (appsettings, or environment variables such as <c>Storage__Cache__MaxBytes</c>).
/// </summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Storage";

    /// <summary>Where verified models are kept, and how much room they may take.</summary>
    public ModelCacheOptions Cache { get; set; } = new();

    /// <summary>The S3-compatible object store (AWS, MinIO, s3rver) that <c>s3://</c> references and uploads use.</summary>
    public S3Options S3 { get; set; } = new();

    /// <summary>
    /// How long a broken download keeps retrying (with range requests from where it stopped) before it
    /// gives up. The partial file is kept either way, so a later attempt resumes it.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a download may go without receiving a single byte before the attempt counts as broken: a
    /// store that stops sending but keeps the connection open would otherwise hang the fetch forever. The
    /// attempt is then retried from the last byte received, within <see cref="ResumeWindow"/>. Default 30 s.
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A cap on download speed in bytes per second, so a model fetch leaves room on a shared link; 0 is no cap.</summary>
    public long MaxBytesPerSecond { get; set; }

    /// <summary>How often a download in progress logs bytes, rate and ETA (it also logs at every tenth of the size).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Limits that apply when a model arrives as a <c>.zip</c> or <c>.tar.gz</c> archive.</summary>
    public ArchiveLimits Archives { get; set; } = new();

    internal void Validate(List<string> failures)
    {
        if (Cache.MaxBytes <= 0)
        {
            failures.Add($"Storage:Cache:MaxBytes must be more than 0; got {Cache.MaxBytes}.");
        }

        if (ResumeWindow < TimeSpan.Zero)
        {
            failures.Add($"Storage:ResumeWindow must not be negative; got {ResumeWindow}.");
        }

        if (ReadTimeout <= TimeSpan.Zero || ReadTimeout.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"Storage:ReadTimeout must be positive and under 24 days; got {ReadTimeout}.");
        }

        if (MaxBytesPerSecond < 0)
        {
            failures.Add($"Storage:MaxBytesPerSecond must be 0 (no cap) or more; got {MaxBytesPerSecond}.");
        }

        if (ProgressInterval <= TimeSpan.Zero)
        {
            failures.Add($"Storage:ProgressInterval must be positive; got {ProgressInterval}.");
        }

        if (!string.IsNullOrEmpty(S3.Endpoint) && !Uri.TryCreate(S3.Endpoint, UriKind.Absolute, out _))
        {
            failures.Add($"Storage:S3:Endpoint '{S3.Endpoint}' is not an absolute URL such as http://127.0.0.1:9000.");
        }

        if (S3.CaCertificateFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            failures.Add($"Storage:S3:CaCertificateFile '{ca}' does not exist.");
        }

        Archives.Validate(failures);
    }
}

/// <summary>Where the model cache lives and how large it may grow.</summary>
public sealed class ModelCacheOptions
{
    /// <summary>
    /// The cache folder. Default: <c>$EDGE_MODEL_CACHE</c>, else <c>$XDG_CACHE_HOME/edge-plugin/models</c>,
    /// else <c>~/.cache/edge-plugin/models</c>.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The most bytes verified models may take; the least recently used are evicted beyond it. Default 10 GiB.</summary>
    public long MaxBytes { get; set; } = 10L << 30;

    internal string ResolveDirectory()
    {
        if (!string.IsNullOrWhiteSpace(Directory))
        {
            return Path.GetFullPath(Directory);
        }

        if (Environment.GetEnvironmentVariable("EDGE_MODEL_CACHE") is { Length: > 0 } explicitDir)
        {
            return Path.GetFullPath(explicitDir);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "edge-plugin", "models");
    }
}

/// <summary>
/// How to reach the S3-compatible store. Each setting left empty falls back to the standard AWS
/// environment variable named on it, so the same container runs against AWS, MinIO or s3rver.
/// </summary>
public sealed class S3Options
{
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
}
