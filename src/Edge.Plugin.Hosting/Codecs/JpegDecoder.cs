using System.Runtime.InteropServices;

namespace Edge.Plugin.Hosting.Codecs;

/// <summary>JPEG through libjpeg-turbo's TurboJPEG API (Debian package libturbojpeg0).</summary>
internal static unsafe partial class JpegDecoder
{
    private const string Library = "libturbojpeg.so.0";
    private const int PixelFormatRgb = 0;
    private const int PixelFormatGray = 6;
    private const int ColorspaceGray = 2;
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
            (width, height) = ScaledSize(width, height, target);
            var gray = colorspace == ColorspaceGray;
            var frame = Frame.Rent(width, height, gray ? PixelFormat.Gray8 : PixelFormat.Rgb24, timestampNs, source);
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
