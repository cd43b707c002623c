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

    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, long maxPixels)
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
}
