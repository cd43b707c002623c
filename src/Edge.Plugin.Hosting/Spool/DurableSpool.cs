using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Spool;

/// <summary>
/// A bounded first-in first-out queue of byte records on disk, for messages a publisher could not
/// deliver yet. Records live in append-only segment files (<c>NNNNNNNNNNNNNNNN.seg</c>); a small
/// <c>head</c> file remembers where delivery got to. Each record is framed as
/// <c>magic u32 | length u32 | crc32c(length, payload) u32 | payload</c>, so a record torn by a crash
/// is recognised on the next open and cut off, never delivered half-written.
/// </summary>
/// <remarks>
/// Every record reaches the kernel with one write before <see cref="Append"/> returns, so a killed
/// process loses nothing that was appended; <see cref="SpoolOptions.Fsync"/> decides what survives a
/// power cut. The head position is written after each removal without an fsync: a power cut can
/// deliver a few records twice, never lose one (at-least-once).
/// </remarks>
internal sealed partial class DurableSpool : IDisposable
{
    internal const int HeaderBytes = 12;
    private const uint Magic = 0x31505345; // "ESP1"
    private const int MaxRecordBytes = 16 * 1024 * 1024;
    private const string SegmentExtension = ".seg";

    private readonly SpoolOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly FileStream _lockFile;
    private readonly FileStream _headFile;
    private readonly List<Segment> _segments = [];
    private FileStream _tail;
    private FileStream? _reader;
    private Segment? _readerSegment;
    private long _headOffset;
    private long _lastFsync;
    private bool _unsynced;
    private bool _disposed;

    private DurableSpool(SpoolOptions options, ILogger logger, FileStream lockFile, FileStream headFile)
    {
        _options = options;
        _logger = logger;
        _lockFile = lockFile;
        _headFile = headFile;
        _tail = null!;
    }

    /// <summary>The folder that holds the spool.</summary>
    public string Directory => _options.Directory!;

    /// <summary>Records waiting.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes waiting, framing included.</summary>
    public long Bytes { get; private set; }

    /// <summary>Records dropped to make room under <see cref="SpoolFullPolicy.DropOldest"/>, since this open.</summary>
    public long DroppedOldest { get; private set; }

    /// <summary>Records refused under <see cref="SpoolFullPolicy.DropNewest"/>, since this open.</summary>
    public long DroppedNewest { get; private set; }

    /// <summary>Torn or corrupt bytes cut off when the spool was opened.</summary>
    public long DiscardedBytes { get; private set; }

    /// <summary>Opens (or creates) the spool in <see cref="SpoolOptions.Directory"/>, recovering from a crash.</summary>
    /// <exception cref="IOException">Another process holds the spool, or the folder cannot be written.</exception>
    public static DurableSpool Open(SpoolOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dir = Path.GetFullPath(options.Directory!);
        System.IO.Directory.CreateDirectory(dir);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix: two processes never share a spool.
            lockFile = new FileStream(Path.Combine(dir, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"Spool {dir} is in use by another process; give each publisher its own Publishing:Spool:Directory.", e);
        }

        var headFile = new FileStream(Path.Combine(dir, "head"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        var spool = new DurableSpool(new SpoolOptions
        {
            Directory = dir,
            MaxBytes = options.MaxBytes,
            MaxRecords = options.MaxRecords,
            SegmentBytes = options.SegmentBytes,
            Fsync = options.Fsync,
            FsyncInterval = options.FsyncInterval,
            WhenFull = options.WhenFull,
        }, logger, lockFile, headFile);
        try
        {
            spool.Recover();
        }
        catch
        {
            spool.Dispose();
            throw;
        }

        return spool;
    }

    /// <summary>Appends a record. When this returns, the record is in the spool (see the fsync policy for power cuts).</summary>
    /// <exception cref="SpoolFullException">The spool is full and its policy drops the newest record.</exception>
    /// <exception cref="ArgumentException">The record is larger than the whole spool may hold.</exception>
    public void Append(ReadOnlySpan<byte> payload)
    {
        var frameLength = HeaderBytes + payload.Length;
        if (payload.Length > MaxRecordBytes || frameLength > _options.MaxBytes)
        {
            throw new ArgumentException($"A record of {payload.Length} bytes cannot be spooled: the limit is {Math.Min(MaxRecordBytes, _options.MaxBytes - HeaderBytes)} bytes.", nameof(payload));
        }

        var frame = ArrayPool<byte>.Shared.Rent(frameLength);
        try
        {
            BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), payload.Length);
            payload.CopyTo(frame.AsSpan(HeaderBytes));
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), Checksum(frame.AsSpan(4, 4), payload));
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                MakeRoom(frameLength);
                if (_segments[^1].Length > 0 && _segments[^1].Length + frameLength > _options.SegmentBytes)
                {
                    Roll();
                }

                _tail.Write(frame, 0, frameLength);
                _segments[^1].Length += frameLength;
                Count++;
                Bytes += frameLength;
                _unsynced = true;
                SyncIfDue(force: false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Reads the oldest record without removing it; null when the spool is empty.</summary>
    public byte[]? Peek()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Count == 0)
            {
                return null;
            }

            var reader = HeadReader();
            reader.Position = _headOffset;
            Span<byte> header = stackalloc byte[HeaderBytes];
            reader.ReadExactly(header);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            var payload = new byte[length];
            reader.ReadExactly(payload);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Checksum(header.Slice(4, 4), payload))
            {
                throw new InvalidDataException($"Spool record at {_segments[0].Path}:{_headOffset} changed on disk after it was written.");
            }

            return payload;
        }
    }

    /// <summary>Removes the oldest record, once it has been delivered.</summary>
    public void RemoveHead()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Count > 0)
            {
                DropHead();
                WriteHead();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_tail is not null)
            {
                if (_unsynced && _options.Fsync != SpoolFsync.Never)
                {
                    _tail.Flush(flushToDisk: true);
                }

                WriteHead();
                _tail.Dispose();
            }

            _reader?.Dispose();
            _headFile.Dispose();
            _lockFile.Dispose();
        }
    }

    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> payload) => Crc32C.Compute(payload, Crc32C.Compute(length));

    private void Recover()
    {
        var ids = System.IO.Directory.EnumerateFiles(Directory, "*" + SegmentExtension)
            .Select(p => long.TryParse(Path.GetFileNameWithoutExtension(p), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1)
            .Where(id => id > 0)
            .Order()
            .ToList();
        var (headSegment, headOffset) = ReadHead();
        if (!ids.Contains(headSegment))
        {
            // No usable head: deliver from the start. At worst some records go twice; none is lost.
            headSegment = ids.Count > 0 ? ids[0] : 1;
            headOffset = 0;
        }

        foreach (var id in ids.Where(id => id < headSegment))
        {
            File.Delete(SegmentPath(id));
        }

        foreach (var id in ids.Where(id => id >= headSegment))
        {
            var segment = new Segment(id, SegmentPath(id));
            var start = id == headSegment ? headOffset : 0;
            using (var file = new FileStream(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, bufferSize: 64 * 1024))
            {
                start = Math.Min(start, file.Length);
                var (end, records) = Scan(file, start);
                if (end < file.Length)
                {
                    var cut = file.Length - end;
                    DiscardedBytes += cut;
                    LogTornTail(_logger, segment.Path, end, cut, id == ids[^1] ? "a torn last record from an interrupted write" : "corrupt data");
                    file.SetLength(end);
                    file.Flush(flushToDisk: true);
                }

                segment.Length = end;
                Count += records;
                Bytes += end - start;
            }

            _segments.Add(segment);
        }

        _headOffset = _segments.Count > 0 && _segments[0].Id == headSegment ? Math.Min(headOffset, _segments[0].Length) : 0;
        if (_segments.Count == 0)
        {
            _segments.Add(new Segment(headSegment, SegmentPath(headSegment)));
            _headOffset = 0;
        }

        _tail = OpenTail(_segments[^1]);
        SyncDirectory();
        WriteHead();
        if (Count > 0)
        {
            LogRecovered(_logger, Directory, Count, Bytes);
        }
    }

    private static (long End, int Records) Scan(FileStream file, long start)
    {
        file.Position = start;
        Span<byte> header = stackalloc byte[HeaderBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var position = start;
            var records = 0;
            while (true)
            {
                if (file.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
                {
                    return (position, records);
                }

                var length = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
                if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || length < 0 || length > MaxRecordBytes || position + HeaderBytes + length > file.Length)
                {
                    return (position, records);
                }

                if (buffer.Length < length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(length);
                }

                file.ReadExactly(buffer, 0, length);
                if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Checksum(header.Slice(4, 4), buffer.AsSpan(0, length)))
                {
                    return (position, records);
                }

                position += HeaderBytes + length;
                records++;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private (long Segment, long Offset) ReadHead()
    {
        Span<byte> head = stackalloc byte[20];
        _headFile.Position = 0;
        if (_headFile.ReadAtLeast(head, 20, throwOnEndOfStream: false) < 20 || BinaryPrimitives.ReadUInt32LittleEndian(head[16..]) != Crc32C.Compute(head[..16]))
        {
            return (-1, 0);
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(head), BinaryPrimitives.ReadInt64LittleEndian(head[8..]));
    }

    private void WriteHead()
    {
        Span<byte> head = stackalloc byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(head, _segments[0].Id);
        BinaryPrimitives.WriteInt64LittleEndian(head[8..], _headOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(head[16..], Crc32C.Compute(head[..16]));

        // One 20-byte write at offset 0: it lands whole or not at all in practice, and the CRC catches the rest.
        RandomAccess.Write(_headFile.SafeFileHandle, head, 0);
    }

    private void MakeRoom(int frameLength)
    {
        var dropped = 0;
        while ((Bytes + frameLength > _options.MaxBytes || Count >= _options.MaxRecords) && Count > 0)
        {
            if (_options.WhenFull == SpoolFullPolicy.DropNewest)
            {
                DroppedNewest++;
                LogDroppedNewest(_logger, Directory, Count, Bytes, DroppedNewest);
                var limit = Count >= _options.MaxRecords ? $"{Count} of {_options.MaxRecords} records" : $"{Count} records, {Bytes} of {_options.MaxBytes} bytes";
                throw new SpoolFullException($"Spool {Directory} is full ({limit}): the new record was dropped ({DroppedNewest} dropped so far). Raise its MaxBytes (or the MQTT publisher's QueueCapacity) or restore the link.");
            }

            DropHead();
            DroppedOldest++;
            dropped++;
        }

        if (dropped > 0)
        {
            WriteHead();
            LogDroppedOldest(_logger, Directory, dropped, DroppedOldest);
        }
    }

    private void DropHead()
    {
        var reader = HeadReader();
        reader.Position = _headOffset + 4;
        Span<byte> length = stackalloc byte[4];
        reader.ReadExactly(length);
        var frameLength = HeaderBytes + BinaryPrimitives.ReadInt32LittleEndian(length);
        _headOffset += frameLength;
        Count--;
        Bytes -= frameLength;
        while (_segments.Count > 1 && _headOffset >= _segments[0].Length)
        {
            if (ReferenceEquals(_readerSegment, _segments[0]))
            {
                _reader?.Dispose();
                _reader = null;
                _readerSegment = null;
            }

            File.Delete(_segments[0].Path);
            _segments.RemoveAt(0);
            _headOffset = 0;
        }
    }

    private FileStream HeadReader()
    {
        if (!ReferenceEquals(_readerSegment, _segments[0]) || _reader is null)
        {
            _reader?.Dispose();
            _reader = new FileStream(_segments[0].Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 16 * 1024);
            _readerSegment = _segments[0];
        }

        return _reader;
    }

    private void Roll()
    {
        if (_options.Fsync != SpoolFsync.Never)
        {
            _tail.Flush(flushToDisk: true);
        }

        _tail.Dispose();
        var next = new Segment(_segments[^1].Id + 1, SegmentPath(_segments[^1].Id + 1));
        _segments.Add(next);
        _tail = OpenTail(next);
        SyncDirectory();
    }

    private void SyncIfDue(bool force)
    {
        var due = _options.Fsync switch
        {
            SpoolFsync.Always => true,
            SpoolFsync.Interval => force || Environment.TickCount64 - _lastFsync >= (long)_options.FsyncInterval.TotalMilliseconds,
            _ => false,
        };
        if (due && _unsynced)
        {
            _tail.Flush(flushToDisk: true);
            _lastFsync = Environment.TickCount64;
            _unsynced = false;
        }
    }

    private void SyncDirectory()
    {
        // A new segment's name must reach the disk too, or a power cut can lose the whole file.
        if (_options.Fsync != SpoolFsync.Never)
        {
            DirectorySync.Flush(Directory);
        }
    }

    // No user-space buffer: each record is one write(2), in the kernel before Append returns.
    private static FileStream OpenTail(Segment segment)
    {
        var stream = new FileStream(segment.Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        stream.Position = segment.Length;
        return stream;
    }

    private string SegmentPath(long id) => Path.Combine(Directory, id.ToString("D16", CultureInfo.InvariantCulture) + SegmentExtension);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spool {Path}: cut {Bytes} bytes at offset {Offset}: {Reason}")]
    private static partial void LogTornTail(ILogger logger, string path, long offset, long bytes, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Spool {Directory}: {Count} record(s), {Bytes} bytes waiting from an earlier run")]
    private static partial void LogRecovered(ILogger logger, string directory, int count, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spool {Directory} is full: dropped the {Dropped} oldest record(s) to make room ({Total} dropped since start)")]
    private static partial void LogDroppedOldest(ILogger logger, string directory, int dropped, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spool {Directory} is full ({Count} records, {Bytes} bytes): dropped the newest record ({Total} dropped since start)")]
    private static partial void LogDroppedNewest(ILogger logger, string directory, int count, long bytes, long total);

    private sealed class Segment(long id, string path)
    {
        public long Id { get; } = id;

        public string Path { get; } = path;

        public long Length { get; set; }
    }
}
