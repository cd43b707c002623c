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

    /// <summary>
    /// How long an <c>http(s)://</c> request may wait for the server's answer (its status and headers)
    /// before the attempt counts as failed, as a refused connection would. The body that follows is
    /// guarded by <see cref="ReadTimeout"/> instead, so a large model on a slow link is not cut off.
    /// Default 100 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

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

        // HttpClient refuses a timeout of zero, a negative one or one past int.MaxValue milliseconds.
        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"Storage:RequestTimeout must be positive and under 24 days; got {RequestTimeout}.");
        }

        if (MaxBytesPerSecond < 0)
        {
            failures.Add($"Storage:MaxBytesPerSecond must be 0 (no cap) or more; got {MaxBytesPerSecond}.");
        }

        if (ProgressInterval <= TimeSpan.Zero)
        {
            failures.Add($"Storage:ProgressInterval must be positive; got {ProgressInterval}.");
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
