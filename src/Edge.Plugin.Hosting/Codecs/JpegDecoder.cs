using System.Buffers;
using System.Runtime.InteropServices;

namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// JPEG through libjpeg-turbo's TurboJPEG API (Debian package libturbojpeg0): YCbCr and RGB JPEGs to
/// RGB, grey ones to grey, CMYK and YCCK ones (Photoshop's print files) to RGB through their CMYK.
/// </summary>
internal static unsafe partial class JpegDecoder
{
    private const string Library = "libturbojpeg.so.0";
    private const int PixelFormatRgb = 0;
    private const int PixelFormatGray = 6;
    private const int PixelFormatCmyk = 11;
    private const int ColorspaceGray = 2;
    private const int ColorspaceCmyk = 3;
    private const int ColorspaceYcck = 4;
    private const int FlagStopOnWarning = 1 << 13;

    // A TurboJPEG handle is not safe to share between threads; one per thread is.
    [ThreadStatic]
    private static nint t_handle;

    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, FrameSize target, long maxPixels)
    {
        var handle = Handle(source);
        fixed (byte* jpeg = data)
        {
            int width, height, subsampling, colorspace;
            if (tjDecompressHeader3(handle, jpeg, (nuint)data.Length, &width, &height, &subsampling, &colorspace) != 0)
            {
                throw new FrameSourceException(source, $"not a readable JPEG: {Error(handle)}");
            }

            ImageDecoder.CheckSize(source, width, height, maxPixels);
            var (sourceWidth, sourceHeight) = (width, height);
            (width, height) = ScaledSize(width, height, target);
            if (colorspace is ColorspaceCmyk or ColorspaceYcck)
            {
                return DecodeCmyk(handle, jpeg, data.Length, width, height, source, timestampNs, sourceWidth, sourceHeight);
            }

            var gray = colorspace == ColorspaceGray;
            var frame = Frame.Rent(width, height, gray ? PixelFormat.Gray8 : PixelFormat.Rgb24, timestampNs, source, sourceWidth, sourceHeight);
            try
            {
                fixed (byte* pixels = frame.Pixels)
                {
                    // Stop on warnings: libjpeg "recovers" from a truncated file by painting grey, and a
                    // model would classify that grey without anyone knowing the image was broken.
                    if (tjDecompress2(handle, jpeg, (nuint)data.Length, pixels, width, frame.Stride, height, gray ? PixelFormatGray : PixelFormatRgb, FlagStopOnWarning) != 0)
                    {
                        throw new FrameSourceException(source, $"corrupt or truncated JPEG: {Error(handle)}");
                    }
                }

                return frame;
            }
            catch
            {
                frame.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// A CMYK or YCCK JPEG: libjpeg converts YCCK to CMYK but neither to RGB, so it decodes to CMYK and
    /// the ink is taken off white here, R = (1 - C)(1 - K) and so on. Adobe's applications store every
    /// channel inverted (255 is no ink), and libjpeg hands the samples over as stored; as in Chromium,
    /// Firefox, Pillow and Go's image/jpeg, every CMYK JPEG is read by that convention, since those are
    /// in practice the only ones there are. No colour profile is applied: the result is the naive
    /// conversion, close to what the file looks like but not colour-managed.
    /// </summary>
    private static Frame DecodeCmyk(nint handle, byte* jpeg, int length, int width, int height, string source, long timestampNs, int sourceWidth, int sourceHeight)
    {
        var pixels = (long)width * height;
        var cmyk = ArrayPool<byte>.Shared.Rent(checked((int)(pixels * 4)));
        try
        {
            fixed (byte* buffer = cmyk)
            {
                if (tjDecompress2(handle, jpeg, (nuint)length, buffer, width, width * 4, height, PixelFormatCmyk, FlagStopOnWarning) != 0)
                {
                    throw new FrameSourceException(source, $"corrupt or truncated CMYK JPEG: {Error(handle)}");
                }
            }

            var frame = Frame.Rent(width, height, PixelFormat.Rgb24, timestampNs, source, sourceWidth, sourceHeight);
            var rgb = frame.Pixels;
            for (int i = 0, o = 0; o < rgb.Length; i += 4, o += 3)
            {
                // Inverted samples: (1 - C)(1 - K) = C' K' / 255.
                int k = cmyk[i + 3];
                rgb[o] = Times(cmyk[i], k);
                rgb[o + 1] = Times(cmyk[i + 1], k);
                rgb[o + 2] = Times(cmyk[i + 2], k);
            }

            return frame;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cmyk);
        }
    }

    /// <summary>a * b / 255, rounded, for bytes a and b: the exact result, without a division.</summary>
    private static byte Times(int a, int b)
    {
        var t = (a * b) + 128;
        return (byte)((t + (t >> 8)) >> 8);
    }

    /// <summary>
    /// The smallest size libjpeg-turbo can decode to in the DCT domain that still covers the target in
    /// both dimensions. tjDecompress2 picks the largest factor whose result fits the width and height
    /// it is given, so passing exactly this size selects exactly this factor.
    /// </summary>
    internal static (int Width, int Height) ScaledSize(int width, int height, FrameSize target)
    {
        if (target.Width <= 0 && target.Height <= 0)
        {
            return (width, height);
        }

        var best = (width, height);
        foreach (var (num, denom) in ScalingFactors)
        {
            var w = Scaled(width, num, denom);
            var h = Scaled(height, num, denom);
            if (w >= target.Width && h >= target.Height && (long)w * h < (long)best.width * best.height)
            {
                best = (w, h);
            }
        }

        return best;
    }

    // TJSCALED: the scaled dimension rounds up.
    private static int Scaled(int dimension, int num, int denom) => (int)((((long)dimension * num) + denom - 1) / denom);

    private static readonly (int Num, int Denom)[] ScalingFactors = ReadScalingFactors();

    private static (int, int)[] ReadScalingFactors()
    {
        int count;
        ScalingFactor* factors;
        try
        {
            factors = tjGetScalingFactors(&count);
        }
        catch (DllNotFoundException)
        {
            // Decode reports the missing library by name; without it there is nothing to scale.
            return [];
        }

        var result = new (int, int)[factors is null ? 0 : count];
        for (var i = 0; i < result.Length; i++)
        {
            // Only shrinking factors: a hint is a floor, never a reason to upsample.
            result[i] = factors[i].Num <= factors[i].Denom ? (factors[i].Num, factors[i].Denom) : (1, 1);
        }

        return result;
    }

    private static nint Handle(string source)
    {
        if (t_handle != 0)
        {
            return t_handle;
        }

        try
        {
            t_handle = tjInitDecompress();
        }
        catch (DllNotFoundException e)
        {
            throw new FrameSourceException(source, $"JPEG decoding needs {Library}, which is not installed (Debian/Ubuntu: apt-get install libturbojpeg0).", e);
        }

        return t_handle != 0 ? t_handle : throw new FrameSourceException(source, "TurboJPEG could not create a decompressor.");
    }

    private static string Error(nint handle) => Marshal.PtrToStringUTF8(tjGetErrorStr2(handle)) ?? "unknown error";

    [LibraryImport(Library)]
    private static partial nint tjInitDecompress();

    // unsigned long is 64-bit on the 64-bit Linux targets this package ships for.
    [LibraryImport(Library)]
    private static partial int tjDecompressHeader3(nint handle, byte* jpegBuf, nuint jpegSize, int* width, int* height, int* jpegSubsamp, int* jpegColorspace);

    [LibraryImport(Library)]
    private static partial int tjDecompress2(nint handle, byte* jpegBuf, nuint jpegSize, byte* dstBuf, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)]
    private static partial nint tjGetErrorStr2(nint handle);

    [LibraryImport(Library)]
    private static partial ScalingFactor* tjGetScalingFactors(int* numScalingFactors);

    [StructLayout(LayoutKind.Sequential)]
    private struct ScalingFactor
    {
        public int Num;
        public int Denom;
    }
}
