using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Reads the parts of a multipart/x-mixed-replace stream (MJPEG over HTTP), or one whole body,
/// into pooled buffers without allocating per part. Tolerant of what real cameras send: a boundary
/// given with or without its leading dashes or not at all, parts with or without Content-Length,
/// headers in any case. Every read is bounded by the stall timeout, so a camera that stops sending
/// without closing the connection is noticed.
/// </summary>
internal sealed class MultipartReader : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly TimeSpan _stall;
    private readonly int _maxBodyBytes;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationToken _cancellation;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private byte[] _boundary;
    private int _start;
    private int _end;
    private bool _eof;
    private long _lastFillNs;

    public MultipartReader(Stream stream, string? boundary, TimeSpan stall, int maxBodyBytes, CancellationToken cancellationToken)
    {
        _stream = stream;
        _stall = stall;
        _maxBodyBytes = maxBodyBytes;
        _boundary = Encoding.ASCII.GetBytes((boundary ?? string.Empty).Trim('"').TrimStart('-'));
        _cancellation = cancellationToken;
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>The first bytes of the body, read without consuming them, to tell a stream from a single image.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> PeekAsync(int count)
    {
        while (_end - _start < count && await FillAsync().ConfigureAwait(false))
        {
        }

        return _buffer.AsMemory(_start, Math.Min(count, _end - _start));
    }

    /// <summary>Reads the next part's body; null when the stream ends cleanly.</summary>
    /// <exception cref="InvalidDataException">The stream is not multipart, or a part is too large.</exception>
    /// <exception cref="TimeoutException">No bytes arrived within the stall timeout.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<EncodedImage?> ReadPartAsync()
    {
        long timestamp;
        while (true)
        {
            var (offset, length) = await ReadLineAsync().ConfigureAwait(false);
            if (offset < 0)
            {
                return null;
            }

            var line = _buffer.AsSpan(offset, length);
            if (IsBoundary(line, out var final))
            {
                if (final)
                {
                    return null;
                }

                // The part's bytes arrived with this read, before any decoding: the grab time.
                timestamp = _lastFillNs;
                break;
            }
        }

        var contentLength = -1L;
        while (true)
        {
            var (offset, length) = await ReadLineAsync().ConfigureAwait(false);
            if (offset < 0)
            {
                throw new EndOfStreamException("the stream ended inside a part's headers");
            }

            if (length == 0)
            {
                break;
            }

            var line = _buffer.AsSpan(offset, length);
            var colon = line.IndexOf((byte)':');
            if (colon > 0 && Ascii.EqualsIgnoreCase(line[..colon].Trim((byte)' '), "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(line[(colon + 1)..].Trim((byte)' '), out contentLength, out _) || contentLength < 0)
                {
                    throw new InvalidDataException($"a part declares an unreadable Content-Length '{Encoding.ASCII.GetString(line[(colon + 1)..])}'");
                }
            }
        }

        return contentLength >= 0
            ? await ReadExactlyAsync(contentLength, timestamp).ConfigureAwait(false)
            : await ReadUntilBoundaryAsync(timestamp).ConfigureAwait(false);
    }

    /// <summary>Reads the whole remaining body (a snapshot), of known or unknown length.</summary>
    public async ValueTask<EncodedImage> ReadToEndAsync(long contentLength, long timestampNs)
    {
        if (contentLength >= 0)
        {
            return await ReadExactlyAsync(contentLength, timestampNs).ConfigureAwait(false);
        }

        var body = ArrayPool<byte>.Shared.Rent(BufferSize);
        var length = 0;
        try
        {
            while (_end > _start || await FillAsync().ConfigureAwait(false))
            {
                body = Append(body, length, _buffer.AsSpan(_start, _end - _start));
                length += _end - _start;
                _start = _end;
            }

            return new EncodedImage(body, length, timestampNs);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
    }

    public void Dispose()
    {
        _timeout.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private bool IsBoundary(ReadOnlySpan<byte> line, out bool final)
    {
        final = false;
        if (!line.StartsWith("--"u8))
        {
            return false;
        }

        var name = line.TrimStart((byte)'-').TrimEnd((byte)' ');
        if (_boundary.Length == 0)
        {
            // No boundary announced (or the wrong Content-Type): the first dashed line names it.
            _boundary = name.ToArray();
            return _boundary.Length > 0;
        }

        if (!name.StartsWith(_boundary))
        {
            return false;
        }

        final = name[_boundary.Length..].SequenceEqual("--"u8);
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<EncodedImage> ReadExactlyAsync(long contentLength, long timestampNs)
    {
        if (contentLength > _maxBodyBytes)
        {
            throw new InvalidDataException($"an image of {contentLength} bytes is over the limit of {_maxBodyBytes}");
        }

        var length = (int)contentLength;
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var buffered = Math.Min(length, _end - _start);
            _buffer.AsSpan(_start, buffered).CopyTo(body);
            _start += buffered;
            var read = buffered;
            while (read < length)
            {
                var n = await ReadStreamAsync(body.AsMemory(read, length - read)).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"the stream ended {length - read} bytes before the end of a {length}-byte image");
                }

                read += n;
            }

            return new EncodedImage(body, length, timestampNs);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<EncodedImage> ReadUntilBoundaryAsync(long timestampNs)
    {
        var body = ArrayPool<byte>.Shared.Rent(BufferSize);
        var length = 0;
        try
        {
            while (true)
            {
                var window = _buffer.AsSpan(_start, _end - _start);
                var at = FindDelimiter(window);
                if (at >= 0)
                {
                    var part = window[..at];
                    body = Append(body, length, part);
                    length += part.Length;
                    _start += at;
                    break;
                }

                // Keep a tail that could be the start of a delimiter split across reads.
                var keep = Math.Min(window.Length, _boundary.Length + 8);
                body = Append(body, length, window[..^keep]);
                length += window.Length - keep;
                _start += window.Length - keep;
                if (!await FillAsync().ConfigureAwait(false))
                {
                    throw new EndOfStreamException("the stream ended inside an image");
                }
            }

            // The CRLF before the delimiter belongs to the delimiter, not the image.
            if (length > 0 && body[length - 1] == '\n')
            {
                length--;
            }

            if (length > 0 && body[length - 1] == '\r')
            {
                length--;
            }

            return new EncodedImage(body, length, timestampNs);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
    }

    private int FindDelimiter(ReadOnlySpan<byte> window)
    {
        var from = 0;
        while (true)
        {
            var at = window[from..].IndexOf("\n--"u8);
            if (at < 0)
            {
                return -1;
            }

            at += from;
            var name = window[(at + 3)..].TrimStart((byte)'-');
            if (name.Length < _boundary.Length)
            {
                return -1;
            }

            if (name.StartsWith(_boundary))
            {
                return at + 1;
            }

            from = at + 1;
        }
    }

    private byte[] Append(byte[] body, int length, ReadOnlySpan<byte> data)
    {
        if (length + data.Length > _maxBodyBytes)
        {
            throw new InvalidDataException($"an image is over the limit of {_maxBodyBytes} bytes without reaching its end");
        }

        if (length + data.Length > body.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(body.Length * 2, length + data.Length));
            body.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(body);
            body = larger;
        }

        data.CopyTo(body.AsSpan(length));
        return body;
    }

    /// <summary>The next line without its CR LF, as an offset into the buffer; offset -1 at the end of the stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(int Offset, int Length)> ReadLineAsync()
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var offset = _start;
                _start += newline + 1;
                var length = newline > 0 && _buffer[offset + newline - 1] == '\r' ? newline - 1 : newline;
                return (offset, length);
            }

            if (_start == 0 && _end == _buffer.Length)
            {
                throw new InvalidDataException($"no line break in {BufferSize} bytes where a multipart header was expected: not an MJPEG stream");
            }

            if (!await FillAsync().ConfigureAwait(false))
            {
                return (-1, 0);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync()
    {
        if (_eof)
        {
            return false;
        }

        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var n = await ReadStreamAsync(_buffer.AsMemory(_end)).ConfigureAwait(false);
        if (n == 0)
        {
            _eof = true;
            return false;
        }

        _end += n;
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadStreamAsync(Memory<byte> into)
    {
        _timeout.CancelAfter(_stall);
        try
        {
            var n = await _stream.ReadAsync(into, _timeout.Token).ConfigureAwait(false);
            _lastFillNs = Clock.NowNs();
            return n;
        }
        catch (OperationCanceledException) when (!_cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"no data for {_stall.TotalSeconds:0.#} s: the camera stalled");
        }
        finally
        {
            _timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }
}
