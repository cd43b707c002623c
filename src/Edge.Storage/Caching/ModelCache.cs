using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Edge.Plugin.Hosting.Secrets;

namespace Edge.Storage.Caching;

/// <summary>
/// Verified models on disk, content-addressed by SHA-256:
/// <c>blobs/&lt;sha256&gt;/&lt;file&gt;</c> holds the bytes, <c>refs/&lt;id&gt;.json</c> what each
/// reference last resolved to, <c>partial/</c> downloads in progress (kept across restarts so they
/// resume), <c>locks/</c> one lock file per reference so two processes never fetch the same model twice.
/// Nothing enters <c>blobs/</c> unverified: a download is hashed as it arrives and moved in by rename.
/// </summary>
internal sealed partial class ModelCache
{
    private readonly ILogger _logger;
    private readonly long _maxBytes;

    // The blob each reference last handed out in this process: a running session may still map it,
    // so eviction leaves it alone.
    private readonly ConcurrentDictionary<string, string> _inUse = new(StringComparer.Ordinal);

    public ModelCache(string root, long maxBytes, ILogger logger)
    {
        Root = root;
        _maxBytes = maxBytes;
        _logger = logger;
    }

    public string Root { get; }

    public CacheEntry? Read(string reference)
    {
        var path = RefPath(reference);
        try
        {
            return File.Exists(path) ? CacheEntry.FromJson(File.ReadAllBytes(path)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Write(CacheEntry entry)
    {
        var path = RefPath(entry.Reference);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, entry.ToJson());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The blob's path when it is present and whole, marking it recently used; otherwise null.</summary>
    public string? Use(CacheEntry entry)
    {
        var dir = BlobDirectory(entry.Sha256);
        var file = Path.Combine(dir, entry.FileName);
        var info = new FileInfo(file);
        if (!info.Exists || info.Length != entry.Size)
        {
            return null;
        }

        try
        {
            Directory.SetLastWriteTimeUtc(dir, DateTime.UtcNow);
        }
        catch (IOException)
        {
            // Recency is a hint for eviction; a read-only cache still serves.
        }

        _inUse[entry.Reference] = entry.Sha256;
        return file;
    }

    public string BlobDirectory(string sha256) => Path.Combine(Root, "blobs", sha256);

    public string PartialPath(string location, string version) => Path.Combine(Root, "partial", Id(location + "\n" + version) + ".part");

    /// <summary>Moves a verified download into the store under its hash. A blob already there wins; the download is dropped.</summary>
    public string Commit(string verifiedFile, string sha256, string fileName)
    {
        var dir = BlobDirectory(sha256);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, fileName);
        if (File.Exists(target))
        {
            File.Delete(verifiedFile);
        }
        else
        {
            File.Move(verifiedFile, target);
        }

        return target;
    }

    /// <summary>
    /// Takes the reference's lock file, waiting while another process or thread holds it. The lock is
    /// an OS file lock (FileShare.None), so it is released even when its holder crashes.
    /// </summary>
    public async Task<IDisposable> LockAsync(string reference, CancellationToken cancellationToken)
    {
        // Created here, on the first fetch, so a plugin with only local models leaves no cache folder behind.
        foreach (var dir in new[] { "blobs", "refs", "partial", "locks" })
        {
            Directory.CreateDirectory(Path.Combine(Root, dir));
        }

        var path = Path.Combine(Root, "locks", Id(reference) + ".lock");
        var waited = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (!waited)
                {
                    waited = true;
                    LogWaitingForLock(_logger, Redaction.Url(reference));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Deletes the least recently used blobs until the cache fits its limit, sparing those in use.</summary>
    public void Evict(string keepSha256)
    {
        var blobs = new DirectoryInfo(Path.Combine(Root, "blobs")).GetDirectories()
            .Select(d => (Dir: d, Size: d.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)))
            .OrderBy(b => b.Dir.LastWriteTimeUtc)
            .ToList();
        var total = blobs.Sum(b => b.Size);
        var keep = new HashSet<string>(_inUse.Values, StringComparer.Ordinal) { keepSha256 };
        foreach (var (dir, size) in blobs)
        {
            if (total <= _maxBytes)
            {
                break;
            }

            if (keep.Contains(dir.Name))
            {
                continue;
            }

            try
            {
                dir.Delete(recursive: true);
                total -= size;
                LogEvicted(_logger, dir.Name, size, total, _maxBytes);
            }
            catch (IOException e)
            {
                LogEvictFailed(_logger, dir.FullName, e.Message);
            }
        }

        if (total > _maxBytes)
        {
            LogOverLimit(_logger, total, _maxBytes);
        }
    }

    private string RefPath(string reference) => Path.Combine(Root, "refs", Id(reference) + ".json");

    private static string Id(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for another process that is fetching {Reference}; its download will be reused")]
    private static partial void LogWaitingForLock(ILogger logger, string reference);

    [LoggerMessage(Level = LogLevel.Information, Message = "Evicted cached model {Sha256} ({Size} bytes); cache now {Total} of {Limit} bytes")]
    private static partial void LogEvicted(ILogger logger, string sha256, long size, long total, long limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not evict {Path}: {Reason}")]
    private static partial void LogEvictFailed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model cache holds {Total} bytes, over its limit of {Limit}, because every model in it is in use")]
    private static partial void LogOverLimit(ILogger logger, long total, long limit);
}
