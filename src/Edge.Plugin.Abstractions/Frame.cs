using System.Buffers;

namespace Edge.Plugin;

/// <summary>How a frame's pixels are laid out in memory, one row after another.</summary>
public enum PixelFormat
{
    /// <summary>8-bit red, green, blue.</summary>
    Rgb24,

    /// <summary>8-bit blue, green, red.</summary>
    Bgr24,

    /// <summary>8-bit red, green, blue, alpha.</summary>
    Rgba32,

    /// <summary>8-bit grey.</summary>
    Gray8,

    /// <summary>16-bit grey, native byte order (microscope and thermal images).</summary>
    Gray16,
}

/// <summary>
/// One image from a source. Its pixels live in a pooled buffer, so a frame must be disposed once
/// it has been processed; the buffer is then reused for a later frame.
/// </summary>
public sealed class Frame : IDisposable
{
    private byte[]? _buffer;

    private Frame(byte[] buffer, int width, int height, PixelFormat format, long timestampNs, string source, int sourceWidth, int sourceHeight)
    {
        _buffer = buffer;
        Width = width;
        Height = height;
        SourceWidth = sourceWidth;
        SourceHeight = sourceHeight;
        Format = format;
        TimestampNs = timestampNs;
        Source = source;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>
    /// The width of the image the frame was made from, before the source scaled it down to what the
    /// model needs (a JPEG decoded at 1/4 scale, ffmpeg's <c>-s</c>); <see cref="Width"/> when it was
    /// not scaled. Results about places in the image (detection boxes) are given in these pixels.
    /// </summary>
    public int SourceWidth { get; }

    /// <summary>The height of the image the frame was made from; see <see cref="SourceWidth"/>.</summary>
    public int SourceHeight { get; }

    /// <summary>Pixel layout.</summary>
    public PixelFormat Format { get; }

    /// <summary>Bytes per row: <see cref="Width"/> times the bytes per pixel, with no padding.</summary>
    public int Stride => Width * BytesPerPixel(Format);

    /// <summary>
    /// When the frame was grabbed, in nanoseconds since the Unix epoch. Taken before decoding, so it
    /// says when the scene looked like this, not when the plugin got round to it.
    /// </summary>
    public long TimestampNs { get; }

    /// <summary>Where the frame came from: a file path, a URL or a camera name.</summary>
    public string Source { get; }

    /// <summary>The pixel bytes, <see cref="Stride"/> times <see cref="Height"/> of them.</summary>
    /// <exception cref="ObjectDisposedException">The frame was disposed.</exception>
    public Span<byte> Pixels => Buffer.AsSpan(0, Stride * Height);

    /// <summary>The pixel bytes as memory.</summary>
    public Memory<byte> Memory => Buffer.AsMemory(0, Stride * Height);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(Frame), $"Frame from {Source} was already disposed; its pixels went back to the pool.");

    /// <summary>Bytes per pixel of a format.</summary>
    public static int BytesPerPixel(PixelFormat format) => format switch
    {
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => 3,
        PixelFormat.Rgba32 => 4,
        PixelFormat.Gray8 => 1,
        PixelFormat.Gray16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };

    /// <summary>Rents a frame whose pixel buffer comes from the shared pool. Pixels are not cleared.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="format">Pixel layout.</param>
    /// <param name="timestampNs">Grab time, nanoseconds since the Unix epoch.</param>
    /// <param name="source">Where the frame came from.</param>
    public static Frame Rent(int width, int height, PixelFormat format, long timestampNs, string source) =>
        Rent(width, height, format, timestampNs, source, width, height);

    /// <summary>Rents a frame scaled down from a larger source image. Pixels are not cleared.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="format">Pixel layout.</param>
    /// <param name="timestampNs">Grab time, nanoseconds since the Unix epoch.</param>
    /// <param name="source">Where the frame came from.</param>
    /// <param name="sourceWidth">The source image's width before scaling, at least 1.</param>
    /// <param name="sourceHeight">The source image's height before scaling, at least 1.</param>
    public static Frame Rent(int width, int height, PixelFormat format, long timestampNs, string source, int sourceWidth, int sourceHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceHeight);
        ArgumentNullException.ThrowIfNull(source);
        var size = checked((long)width * height * BytesPerPixel(format));
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"A {width}x{height} {format} frame needs {size} bytes, more than one buffer can hold.");
        }

        return new Frame(ArrayPool<byte>.Shared.Rent((int)size), width, height, format, timestampNs, source, sourceWidth, sourceHeight);
    }

    /// <summary>Returns the pixel buffer to the pool. Safe to call more than once.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Width}x{Height} {Format} from {Source}";
}
