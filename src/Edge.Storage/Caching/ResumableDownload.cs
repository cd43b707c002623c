using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Caching;

/// <summary>
/// Streams a remote object into a partial file, hashing as the bytes arrive. When the connection
/// breaks it asks again from the last byte written (a range request) until the resume window passes
/// without progress; the partial file survives a restart of the process, and resumes then too.
/// </summary>
internal sealed partial class ResumableDownload(StorageOptions options, ILogger logger)
{
    private const int MaxChunk = 1 << 20;

    // Chunks are written to the partial file in slices of this size: on Linux 6.x/ext4 one large
    // write() costs several times the kernel time per byte of small ones (likely the larger page-cache
    // folios it gets). dd writing 200 MiB spent ~0.65 s of system time at bs=1M against ~0.08 s at
    // 32K on the benchmark machine; curl writes 16 KiB at a time. Reads and hashing stay 1 MiB.
    private const int WriteSlice = 32 << 10;

    public delegate Task<RemoteBody> Opener(long offset, CancellationToken cancellationToken);

    public async Task<(string Sha256, long Size)> RunAsync(RemoteObject remote, string partialPath, Opener open, Func<Exception, bool> isTransient, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var file = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        await using (file.ConfigureAwait(false))
        {
            var offset = await ResumePointAsync(file, remote, hash, cancellationToken).ConfigureAwait(false);
            if (offset > 0)
            {
                LogResuming(logger, remote.Shown, offset, remote.Length ?? -1);
            }

            var writeback = new EarlyWriteback(file.SafeFileHandle);
            var progress = new DownloadProgress(logger, remote.Shown, remote.Length, offset, options.ProgressInterval);
            var chunk = options.MaxBytesPerSecond > 0 ? (int)Math.Clamp(options.MaxBytesPerSecond / 8, 16 << 10, MaxChunk) : MaxChunk;
            byte[][] buffers = [ArrayPool<byte>.Shared.Rent(chunk), ArrayPool<byte>.Shared.Rent(chunk)];
            var lastProgress = Stopwatch.StartNew();
            var attempt = 0;
            try
            {
                while (remote.Length is not { } complete || offset < complete)
                {
                    try
                    {
                        var body = await open(offset, cancellationToken).ConfigureAwait(false);
                        await using (body.Stream.ConfigureAwait(false))
                        {
                            if (body.Offset != offset)
                            {
                                // The store answered from the start (no range support, or a changed object under the same
                                // validator): start over rather than splice two different bodies.
                                LogRestart(logger, remote.Shown, offset);
                                file.SetLength(0);
                                file.Position = 0;
                                hash.GetHashAndReset();
                                offset = 0;
                            }

                            offset = await CopyAsync(body.Stream, file, writeback, hash, chunk, buffers, offset, progress, lastProgress, remote, cancellationToken).ConfigureAwait(false);
                        }

                        if (remote.Length is { } length && offset < length)
                        {
                            throw new IOException($"the connection closed after {offset} of {length} bytes");
                        }

                        if (remote.Length is { } expected && offset > expected)
                        {
                            throw new InvalidDataException($"{remote.Shown} sent {offset} bytes where the store announced {expected}.");
                        }

                        break;
                    }
                    catch (Exception e) when (e is not CacheWriteException && isTransient(e) && !cancellationToken.IsCancellationRequested)
                    {
                        // The file and the hash advance together, chunk by chunk: the file's length is what arrived intact.
                        file.Flush();
                        offset = file.Position;
                        if (lastProgress.Elapsed > options.ResumeWindow)
                        {
                            throw new IOException($"Download of {remote.Shown} stopped at {offset} of {remote.Length?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} bytes and did not resume within {options.ResumeWindow} (Storage:ResumeWindow): {e.Message}. The partial file is kept; the next attempt resumes it.", e);
                        }

                        var delay = TimeSpan.FromMilliseconds(Math.Min(250 * (1 << Math.Min(attempt++, 5)), 5000));
                        LogBroken(logger, remote.Shown, offset, remote.Length ?? -1, e.Message, delay.TotalSeconds);
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffers[0]);
                ArrayPool<byte>.Shared.Return(buffers[1]);
            }

            // Durable before it is renamed into the cache: after a power cut the cache holds either the whole
            // verified model or nothing under that name.
            file.Flush(flushToDisk: true);
            progress.Completed(offset);
            return (Convert.ToHexStringLower(hash.GetHashAndReset()), offset);
        }
    }

    /// <remarks>
    /// Two buffers: while one chunk is written and hashed on the thread pool, the next is read off the
    /// socket, so hashing does not slow the transfer where a second core is free.
    /// </remarks>
    private async Task<long> CopyAsync(Stream source, FileStream file, EarlyWriteback writeback, IncrementalHash hash, int chunk, byte[][] buffers, long offset, DownloadProgress progress, Stopwatch lastProgress, RemoteObject remote, CancellationToken cancellationToken)
    {
        var limit = options.MaxBytesPerSecond;
        var clock = Stopwatch.StartNew();
        var start = offset;
        long sent = 0;
        Task pending = Task.CompletedTask;
        var current = 0;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                var buffer = buffers[current];
                var (read, failure) = await FillAsync(source, buffer.AsMemory(0, chunk), stall, lastProgress, cancellationToken).ConfigureAwait(false);
                await pending.ConfigureAwait(false);
                if (read > 0)
                {
                    pending = Task.Run(() => Store(file, writeback, hash, buffer, read), cancellationToken);
                    offset += read;
                    sent += read;
                    progress.Report(offset);
                    current ^= 1;
                }

                if (failure is not null)
                {
                    // What did arrive is kept, so the retry's range request asks only for the rest: on a link
                    // that stalls every few hundred kilobytes a 1 MiB chunk might otherwise never complete.
                    await pending.ConfigureAwait(false);
                    if (failure is OperationCanceledException && stall.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        LogStalled(logger, remote.Shown, options.ReadTimeout.TotalSeconds, offset - start, offset, remote.Length ?? -1);
                        throw new TimeoutException($"{remote.Shown} sent no bytes for {options.ReadTimeout.TotalSeconds:F1} s (Storage:ReadTimeout) after byte {offset}; the connection stalled", failure);
                    }

                    ExceptionDispatchInfo.Throw(failure);
                }

                if (limit > 0)
                {
                    var due = TimeSpan.FromSeconds((double)sent / limit) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (read < chunk)
                {
                    await pending.ConfigureAwait(false);
                    return offset;
                }
            }
        }
        finally
        {
            // The caller resumes from the file's length, so the last chunk must be on disk (or have failed) first.
            // Normal returns awaited it already; a failed write surfaces again on the retry's first chunk.
            await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Reads until the buffer is full or the body ends. The inactivity clock restarts on every read that
    /// brings bytes, so a slow but live link never trips it; it is stopped between fills so disk writes and
    /// the rate cap do not count as silence. A failure comes back with the bytes read before it.
    /// </summary>
    private async Task<(int Read, Exception? Failure)> FillAsync(Stream source, Memory<byte> buffer, CancellationTokenSource stall, Stopwatch lastProgress, CancellationToken cancellationToken)
    {
        var filled = 0;
        try
        {
            while (filled < buffer.Length)
            {
                stall.CancelAfter(options.ReadTimeout);
                var read = await source.ReadAsync(buffer[filled..], stall.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                lastProgress.Restart();
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return (filled, e);
        }
        finally
        {
            stall.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        return (filled, null);
    }

    private static void Store(FileStream file, EarlyWriteback writeback, IncrementalHash hash, byte[] buffer, int count)
    {
        try
        {
            for (var done = 0; done < count; done += WriteSlice)
            {
                file.Write(buffer, done, Math.Min(WriteSlice, count - done));
            }

            writeback.Written(file.Position);
        }
        catch (IOException e)
        {
            throw new CacheWriteException($"Writing the download to {file.Name} failed: {e.Message}", e);
        }

        hash.AppendData(buffer, 0, count);
    }

    /// <summary>Where to carry on: the length of a partial file left by an earlier attempt, whose bytes are hashed again.</summary>
    private static async Task<long> ResumePointAsync(FileStream file, RemoteObject remote, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var length = file.Length;
        if (length == 0 || (remote.Length is { } total && length > total))
        {
            file.SetLength(0);
            return 0;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxChunk);
        try
        {
            file.Position = 0;
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, MaxChunk), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return file.Position;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming {Location} at byte {Offset} of {Length} with a range request")]
    private static partial void LogResuming(ILogger logger, string location, long offset, long length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download of {Location} broke at byte {Offset} of {Length} ({Reason}); resuming from there in {Seconds:F2} s")]
    private static partial void LogBroken(ILogger logger, string location, long offset, long length, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Download of {Location} stalled: no bytes for {Seconds:F1} s (Storage:ReadTimeout) with the connection still open; {Received} bytes arrived on this attempt, {Offset} of {Length} in all. Aborting the attempt to resume it")]
    private static partial void LogStalled(ILogger logger, string location, double seconds, long received, long offset, long length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Location} was answered from its start instead of byte {Offset}; downloading it again from the beginning")]
    private static partial void LogRestart(ILogger logger, string location, long offset);
}

/// <summary>The local disk failed (full, read-only): not a network problem, so not retried.</summary>
internal sealed class CacheWriteException(string message, Exception inner) : IOException(message, inner);
