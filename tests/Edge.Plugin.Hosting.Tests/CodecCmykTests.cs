using System.Runtime.InteropServices;
using Edge.Plugin.Hosting.Codecs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// CMYK and YCCK JPEGs, the print files Photoshop writes: CMYK ones by Pillow (Debian python3-pil,
/// which stores them as Photoshop does: Adobe marker, every channel inverted), YCCK ones by
/// libjpeg-turbo's own compressor, checked by colour and against ffmpeg's decode.
/// </summary>
public sealed class CodecCmykTests : IDisposable
{
    private const int TjPixelFormatCmyk = 11;
    private const int TjSubsampling444 = 0;
    private const int TjColorspaceCmyk = 3;
    private const int TjColorspaceYcck = 4;

    private readonly string _folder = Directory.CreateTempSubdirectory("edge-cmyk-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Ink amounts as Pillow takes them (0: none, 255: full), and the colour they print.
    [Theory]
    [InlineData(0, 255, 255, 0, 255, 0, 0)]
    [InlineData(255, 0, 255, 0, 0, 255, 0)]
    [InlineData(255, 255, 0, 0, 0, 0, 255)]
    [InlineData(255, 0, 0, 0, 0, 255, 255)]
    [InlineData(0, 0, 0, 0, 255, 255, 255)]
    [InlineData(0, 0, 0, 255, 0, 0, 0)]
    [InlineData(0, 0, 0, 128, 127, 127, 127)]
    [InlineData(0, 128, 255, 64, 191, 95, 0)]
    public void Cmyk_FromPillow_DecodesToTheColourItsInksPrint(int c, int m, int y, int k, int r, int g, int b)
    {
        var path = Pillow($"image = Image.new('CMYK', (24, 16), ({c}, {m}, {y}, {k}))");
        Assert.Equal(TjColorspaceCmyk, Colorspace(path));

        using var frame = Decode(path);

        Assert.Equal((24, 16, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
        AssertEveryPixelNear(frame, r, g, b, tolerance: 2);
    }

    [Theory]
    [InlineData(255, 0, 0)]
    [InlineData(0, 255, 0)]
    [InlineData(0, 0, 255)]
    [InlineData(40, 90, 200)]
    public void Ycck_FromLibjpegTurbo_DecodesToTheColourItsInksPrint(int r, int g, int b)
    {
        // Stored as Adobe stores them, inverted: a sample is 255 minus the ink, which for K = 0 is the RGB value itself.
        var path = Path.Combine(_folder, "ycck.jpg");
        File.WriteAllBytes(path, CompressCmyk(24, 16, (byte)r, (byte)g, (byte)b, 255));
        Assert.Equal(TjColorspaceYcck, Colorspace(path));

        using var frame = Decode(path);

        AssertEveryPixelNear(frame, r, g, b, tolerance: 2);
    }

    [Fact]
    public void Ycck_WithBlack_DarkensEveryChannel()
    {
        // Half the black ink: each channel halves.
        var path = Path.Combine(_folder, "ycck-k.jpg");
        File.WriteAllBytes(path, CompressCmyk(16, 16, 255, 200, 100, 127));

        using var frame = Decode(path);

        AssertEveryPixelNear(frame, 127, 100, 50, tolerance: 2);
    }

    [Fact]
    public void Cmyk_Photo_MatchesFfmpegsDecode()
    {
        // A test card with its grey taken out into the black ink, so every channel varies.
        var card = Path.Combine(_folder, "card.png");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x120", "-frames:v", "1", "-y", card]);
        var path = Pillow($"""
            cmy = [ImageChops.invert(x) for x in Image.open('{card}').convert('RGB').split()]
            k = ImageChops.darker(ImageChops.darker(cmy[0], cmy[1]), cmy[2])
            image = Image.merge('CMYK', [ImageChops.subtract(x, k) for x in cmy] + [k])
            """);
        var ffmpeg = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);

        using var frame = Decode(path);

        // ffmpeg divides by 256 where the exact division is by 255, so it reads up to 1 lower.
        var pixels = frame.Pixels.ToArray();
        Assert.Equal(ffmpeg.Length, pixels.Length);
        var worst = pixels.Zip(ffmpeg, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 2, $"largest difference from ffmpeg: {worst}");
        Assert.True(pixels.Distinct().Count() > 100, "the card should decode to many values, not a flat image");
    }

    [Fact]
    public void Cmyk_DecodesStraightToASmallerSize()
    {
        var path = Pillow("image = Image.new('CMYK', (320, 240), (0, 255, 255, 0))");

        using var frame = ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs(), new FrameSize(80, 60));

        Assert.Equal((80, 60), (frame.Width, frame.Height));
        AssertEveryPixelNear(frame, 255, 0, 0, tolerance: 2);
    }

    [Fact]
    public void Cmyk_Truncated_IsRefusedNamingTheFile()
    {
        var path = Pillow("image = Image.new('CMYK', (64, 64), (0, 128, 255, 0))");
        var bytes = File.ReadAllBytes(path);

        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(bytes.AsSpan(0, bytes.Length - 40), path, Clock.NowNs()));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("CMYK JPEG", error.Message, StringComparison.Ordinal);
    }

    private static Frame Decode(string path) => ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs());

    private static void AssertEveryPixelNear(Frame frame, int r, int g, int b, int tolerance)
    {
        var pixels = frame.Pixels;
        for (var i = 0; i < pixels.Length; i += 3)
        {
            var actual = (pixels[i], pixels[i + 1], pixels[i + 2]);
            Assert.True(
                Math.Abs(actual.Item1 - r) <= tolerance && Math.Abs(actual.Item2 - g) <= tolerance && Math.Abs(actual.Item3 - b) <= tolerance,
                $"pixel {i / 3} is {actual}, expected about ({r}, {g}, {b})");
        }
    }

    /// <summary>Runs Python lines that make a Pillow <c>image</c>, saves it as a JPEG (Pillow writes CMYK ones Adobe-style) and returns its path.</summary>
    private string Pillow(string code)
    {
        var path = Path.Combine(_folder, $"pillow-{Guid.NewGuid():N}.jpg");
        var script = $"import sys\nfrom PIL import Image, ImageChops\n{code}\nimage.save(sys.argv[1], quality=95)\n";
        var written = Tool.Run("/usr/bin/python3", ["-c", script, path]);
        Assert.True(written.ExitCode == 0, $"Pillow (Debian python3-pil, installed by build/setup.sh --test) could not write the image: {written}");
        return path;
    }

    /// <summary>A solid CMYK image through tjCompress2, which writes CMYK samples as a YCCK JPEG with the Adobe marker.</summary>
    private static byte[] CompressCmyk(int width, int height, byte c, byte m, byte y, byte k)
    {
        var pixels = new byte[width * height * 4];
        for (var i = 0; i < pixels.Length; i += 4)
        {
            (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (c, m, y, k);
        }

        var handle = tjInitCompress();
        Assert.NotEqual(0, handle);
        var jpeg = IntPtr.Zero;
        try
        {
            nuint size = 0;
            Assert.Equal(0, tjCompress2(handle, pixels, width, width * 4, height, TjPixelFormatCmyk, ref jpeg, ref size, TjSubsampling444, 95, 0));
            var result = new byte[(int)size];
            Marshal.Copy(jpeg, result, 0, result.Length);
            return result;
        }
        finally
        {
            tjFree(jpeg);
            _ = tjDestroy(handle);
        }
    }

    private static int Colorspace(string path)
    {
        var data = File.ReadAllBytes(path);
        var handle = tjInitDecompress();
        try
        {
            Assert.Equal(0, tjDecompressHeader3(handle, data, (nuint)data.Length, out _, out _, out _, out var colorspace));
            return colorspace;
        }
        finally
        {
            _ = tjDestroy(handle);
        }
    }

    [DllImport("libturbojpeg.so.0")]
    private static extern nint tjInitCompress();

    [DllImport("libturbojpeg.so.0")]
    private static extern nint tjInitDecompress();

    [DllImport("libturbojpeg.so.0")]
    private static extern int tjCompress2(nint handle, byte[] srcBuf, int width, int pitch, int height, int pixelFormat, ref nint jpegBuf, ref nuint jpegSize, int jpegSubsamp, int jpegQual, int flags);

    [DllImport("libturbojpeg.so.0")]
    private static extern int tjDecompressHeader3(nint handle, byte[] jpegBuf, nuint jpegSize, out int width, out int height, out int jpegSubsamp, out int jpegColorspace);

    [DllImport("libturbojpeg.so.0")]
    private static extern void tjFree(nint buffer);

    [DllImport("libturbojpeg.so.0")]
    private static extern int tjDestroy(nint handle);
}
