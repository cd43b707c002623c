namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// Decodes an encoded image into a pooled frame. The format is read from the bytes, never from the
/// file name, so a PNG named .jpg decodes and a text file named .jpg is refused by name.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The most pixels a decoded image may have: 100 megapixels. Guards against decompression bombs.</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>Decodes JPEG, PNG, TIFF or BMP bytes into an RGB, RGBA or grey frame.</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="source">A name for errors and for the frame, such as the file path.</param>
    /// <param name="timestampNs">The grab time to stamp on the frame.</param>
    /// <param name="maxPixels">The largest image accepted.</param>
    /// <exception cref="FrameSourceException">The bytes are empty, truncated, corrupt, too large or of an unknown format.</exception>
    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, long maxPixels = DefaultMaxPixels) =>
        Decode(data, source, timestampNs, default, maxPixels);

    /// <summary>
    /// Decodes JPEG, PNG, TIFF or BMP bytes, letting a JPEG decode straight to a smaller size (1/2, 1/4, 1/8 ...)
    /// that is still at least <paramref name="target"/>: a 1920x1080 camera frame for a 224x224 model
    /// decodes at 480x270, several times faster than at full size.
    /// </summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="source">A name for errors and for the frame, such as the file path.</param>
    /// <param name="timestampNs">The grab time to stamp on the frame.</param>
    /// <param name="target">The least size the consumer needs; the default 0 x 0 for full size.</param>
    /// <param name="maxPixels">The largest image accepted, judged on its declared (full) size.</param>
    /// <exception cref="FrameSourceException">The bytes are empty, truncated, corrupt, too large or of an unknown format.</exception>
    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, FrameSize target, long maxPixels = DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (data.IsEmpty)
        {
            throw new FrameSourceException(source, "the image is empty (0 bytes)");
        }

        return Sniff(data) switch
        {
            ImageFormat.Jpeg => JpegDecoder.Decode(data, source, timestampNs, target, maxPixels),
            ImageFormat.Png => PngDecoder.Decode(data, source, timestampNs, maxPixels),
            ImageFormat.Tiff => TiffDecoder.Decode(data, source, timestampNs, maxPixels),
            ImageFormat.Bmp => BmpDecoder.Decode(data, source, timestampNs, maxPixels),
            _ => throw new FrameSourceException(source, $"not a JPEG, PNG, TIFF or BMP image (it starts with bytes {Convert.ToHexString(data[..Math.Min(8, data.Length)])})"),
        };
    }

    internal static ImageFormat Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return ImageFormat.Jpeg;
        }

        if (data.StartsWith(PngDecoder.Signature))
        {
            return ImageFormat.Png;
        }

        return TiffDecoder.IsTiff(data) ? ImageFormat.Tiff : BmpDecoder.IsBmp(data) ? ImageFormat.Bmp : ImageFormat.Unknown;
    }

    internal static void CheckSize(string source, long width, long height, long maxPixels)
    {
        if (width <= 0 || height <= 0)
        {
            throw new FrameSourceException(source, $"the image declares an impossible size {width}x{height}");
        }

        if (width * height > maxPixels)
        {
            throw new FrameSourceException(source, $"the image declares {width}x{height} = {width * height} pixels, over the limit of {maxPixels}; refusing to decode it");
        }
    }
}

internal enum ImageFormat
{
    Unknown,
    Jpeg,
    Png,
    Tiff,
    Bmp,
}
