using System.Collections.Concurrent;
using System.Net.Sockets;
using Edge.Plugin;
using Edge.Storage.Archives;
using Microsoft.Extensions.Logging;
using Edge.Plugin.Hosting.Secrets;

namespace Edge.Storage.Caching;

/// <summary>
/// The fetch path every remote scheme shares: ask the store what the reference names now, serve the
/// cached copy when it is that version, otherwise download (resumably) under a per-reference file
/// lock, verify, and move it into the cache. When the store cannot be reached, or a new version fails
/// verification, the last verified version keeps serving and the log says so.
/// </summary>
internal abstract partial class RemoteModelSource : IModelSource
{
    private readonly ResumableDownload _download;
    private readonly ConcurrentDictionary<string, string> _rejected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _offline = new(StringComparer.Ordinal);

    protected RemoteModelSource(ModelCache cache, StorageOptions options, ILogger logger)
    {
        Cache = cache;
        Options = options;
        Logger = logger;
        _download = new ResumableDownload(options, logger);
    }

    public abstract IReadOnlyCollection<string> Schemes { get; }

    internal ModelCache Cache { get; }

    protected StorageOptions Options { get; }

    /// <summary>How many downloads this source started: the one-download guarantee is checked against it.</summary>
    internal int Downloads => Volatile.Read(ref _downloads);

    protected ILogger Logger { get; }

    private int _downloads;

    /// <summary>Asks the store what the reference names now. <paramref name="known"/> allows a conditional request.</summary>
    protected abstract Task<RemoteObject> ProbeAsync(ModelReference reference, CacheEntry? known, CancellationToken cancellationToken);

    /// <summary>Opens the object's bytes from <paramref name="offset"/>, failing if it is no longer <see cref="RemoteObject.Version"/>.</summary>
    protected abstract Task<RemoteBody> OpenAsync(RemoteObject remote, long offset, CancellationToken cancellationToken);

    /// <summary>Whether a failure means "cannot reach the store right now" (worth a retry, or the cached copy), not "wrong request".</summary>
    protected virtual bool IsTransient(Exception error)
    {
        for (var e = error; e is not null && e is not CacheWriteException; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or TimeoutException || (e is IOException && e is not FileNotFoundException and not DirectoryNotFoundException))
            {
                return true;
            }

            if (e is TaskCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask<string> GetLocalPathAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var key = reference.Location;
        var known = Cache.Read(key);
        var knownPath = known is null ? null : Cache.Use(known);
        RemoteObject remote;
        try
        {
            remote = await ProbeAsync(reference, knownPath is null ? null : known, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
        {
            return Offline(reference, known, knownPath, e);
        }

        using (remote)
        {
            if (_offline.TryRemove(key, out _))
            {
                LogOnline(Logger, Redaction.Url(key));
            }

            if (Matches(known, knownPath, remote))
            {
                return Resolve(known!, knownPath!);
            }

            if (_rejected.TryGetValue(Id(remote), out var reason))
            {
                return knownPath is not null ? Resolve(known!, knownPath) : throw new InvalidDataException(reason);
            }

            using (await Cache.LockAsync(key, cancellationToken).ConfigureAwait(false))
            {
                // Another process may have fetched this version while this one waited for the lock.
                known = Cache.Read(key);
                knownPath = known is null ? null : Cache.Use(known);
                if (Matches(known, knownPath, remote))
                {
                    LogReused(Logger, Redaction.Url(key), known!.Sha256);
                    return Resolve(known, knownPath!);
                }

                try
                {
                    var entry = await FetchAsync(reference, remote, cancellationToken).ConfigureAwait(false);
                    Cache.Write(entry);
                    var path = Cache.Use(entry) ?? throw new IOException($"The verified model vanished from the cache at {Cache.BlobDirectory(entry.Sha256)}.");
                    Cache.Evict(entry.Sha256);
                    return Resolve(entry, path);
                }
                catch (InvalidDataException e)
                {
                    _rejected[Id(remote)] = e.Message;
                    if (knownPath is null)
                    {
                        throw;
                    }

                    LogRejectedKeptPrevious(Logger, e.Message, Redaction.Url(known!.Location), known.Sha256);
                    return Resolve(known, knownPath);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
                {
                    return Offline(reference, known, knownPath, e);
                }
            }
        }
    }

    private async Task<CacheEntry> FetchAsync(ModelReference reference, RemoteObject remote, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _downloads);
        var partial = Cache.PartialPath(remote.Location, remote.Version);
        var (sha256, size) = await _download.RunAsync(remote, partial, (offset, ct) => OpenAsync(remote, offset, ct), IsTransient, cancellationToken).ConfigureAwait(false);
        foreach (var (expected, what) in new[] { (reference.Sha256, "the reference pins"), (remote.Sha256, "the store's metadata states") })
        {
            if (expected is not null && !string.Equals(expected, sha256, StringComparison.Ordinal))
            {
                File.Delete(partial);
                throw new InvalidDataException($"Model {remote.Shown} (version {remote.Version}) has SHA-256 {sha256}, but {what} {expected}. Refusing it.");
            }
        }

        Cache.Commit(partial, sha256, remote.FileName);
        LogVerified(Logger, remote.Shown, remote.Version, sha256, size);
        return new CacheEntry(reference.Location, remote.Location, remote.Version, sha256, size, remote.FileName, DateTimeOffset.UtcNow);
    }

    /// <summary>The file to load: the blob itself, or the model inside it when it is an archive.</summary>
    private string Resolve(CacheEntry entry, string blobPath) =>
        ArchiveUnpacker.IsArchive(entry.FileName)
            ? ArchiveUnpacker.ModelIn(ArchiveUnpacker.UnpackOnce(blobPath, Path.Combine(Cache.BlobDirectory(entry.Sha256), "contents"), Options.Archives))
            : blobPath;

    private string Offline(ModelReference reference, CacheEntry? known, string? knownPath, Exception error)
    {
        if (known is null || knownPath is null)
        {
            throw new IOException($"Model {Redaction.Url(reference.Location)} could not be fetched ({error.Message}) and no verified copy is cached in {Cache.Root}. Check the store's address and the network.", error);
        }

        if (_offline.TryAdd(reference.Location, true))
        {
            LogOffline(Logger, Redaction.Url(reference.Location), error.Message, Redaction.Url(known.Location), known.Version, known.Sha256, known.VerifiedAt);
        }

        return Resolve(known, knownPath);
    }

    private static bool Matches(CacheEntry? known, string? knownPath, RemoteObject remote) =>
        known is not null && knownPath is not null
        && string.Equals(known.Location, remote.Location, StringComparison.Ordinal)
        && string.Equals(known.Version, remote.Version, StringComparison.Ordinal);

    private static string Id(RemoteObject remote) => remote.Location + "\n" + remote.Version;

    [LoggerMessage(Level = LogLevel.Warning, Message = "OFFLINE: model store unreachable for {Reference} ({Reason}); using the last verified version {Location} (version {Version}, sha256 {Sha256}, verified {VerifiedAt:u}) from the cache")]
    private static partial void LogOffline(ILogger logger, string reference, string reason, string location, string version, string sha256, DateTimeOffset verifiedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model store reachable again for {Reference}")]
    private static partial void LogOnline(ILogger logger, string reference);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Reference} was fetched by another process while this one waited; reusing sha256 {Sha256}")]
    private static partial void LogReused(ILogger logger, string reference, string sha256);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason} Keeping the previous verified version {Location} (sha256 {Sha256})")]
    private static partial void LogRejectedKeptPrevious(ILogger logger, string reason, string location, string sha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Verified {Location} (version {Version}): sha256 {Sha256}, {Size} bytes")]
    private static partial void LogVerified(ILogger logger, string location, string version, string sha256, long size);
}
