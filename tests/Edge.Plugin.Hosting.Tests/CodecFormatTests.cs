using System.Buffers.Binary;
using Edge.Plugin.Hosting.Codecs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>TIFF, BMP and interlaced PNG, each file written by a real encoder and checked against ffmpeg's decode.</summary>
public sealed class CodecFormatTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-codecs-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("rgb24", "raw", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb24", "packbits", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb24", "lzw", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb24", "deflate", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgba", "lzw", PixelFormat.Rgba32, "rgba")]
    [InlineData("pal8", "packbits", PixelFormat.Rgb24, "rgb24")]
    [InlineData("gray", "lzw", PixelFormat.Gray8, "gray")]
    [InlineData("gray16le", "raw", PixelFormat.Gray16, "gray16le")]
    [InlineData("gray16le", "deflate", PixelFormat.Gray16, "gray16le")]
    [InlineData("monob", "packbits", PixelFormat.Gray8, "gray")]
    [InlineData("rgb48le", "lzw", PixelFormat.Rgb24, null)]
    public void Tiff_FromFfmpeg_MatchesFfmpeg(string pixelFormat, string compression, PixelFormat expected, string? compareAs)
    {
        var path = Encode("tif", pixelFormat, ["-compression_algo", compression]);

        using var frame = Decode(path);

        Assert.Equal((67, 45, expected), (frame.Width, frame.Height, frame.Format));
        Assert.Equal(Reference(path, compareAs), frame.Pixels.ToArray());
    }

    [Theory]
    [InlineData("lzw:2")]
    [InlineData("zip:2")]
    [InlineData("lzw")]
    public void Tiff_LibtiffPredictorTilesBigEndian_MatchFfmpeg(string compression)
    {
        foreach (var format in new[] { "rgb24", "gray16le" })
        {
            var plain = Encode("tif", format, ["-compression_algo", "raw"]);
            foreach (var layout in new[] { new[] { "-s" }, ["-t", "-w", "16", "-l", "16"], ["-B", "-r", "7"] })
            {
                var path = Path.Combine(_folder, $"tiffcp-{Guid.NewGuid():N}.tif");
                var result = Tool.Run("tiffcp", ["-c", compression, .. layout, plain, path]);
                Assert.True(result.ExitCode == 0, result.ToString());

                using var frame = Decode(path);

                Assert.Equal(Reference(plain, format == "rgb24" ? "rgb24" : "gray16le"), frame.Pixels.ToArray());
            }
        }
    }

    [Fact]
    public void Tiff_16BitMicroscopeImage_KeepsEveryValue()
    {
        // A 12-bit camera's values in 16-bit containers, as microscopes write them: not 8-bit scaled up.
        var values = new byte[64 * 48 * 2];
        var random = new Random(3);
        for (var i = 0; i < values.Length; i += 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(values.AsSpan(i), (ushort)random.Next(4096));
        }

        var raw = Path.Combine(_folder, "sensor.raw");
        var path = Path.Combine(_folder, "sensor.tif");
        File.WriteAllBytes(raw, values);
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "rawvideo", "-pix_fmt", "gray16le", "-s", "64x48", "-i", raw, "-compression_algo", "lzw", "-y", path]);

        using var frame = Decode(path);

        Assert.Equal((64, 48, PixelFormat.Gray16), (frame.Width, frame.Height, frame.Format));
        Assert.Equal(values, frame.Pixels.ToArray());
    }

    [Theory]
    [InlineData("bgr24", PixelFormat.Rgb24, "rgb24")]
    [InlineData("bgra", PixelFormat.Rgb24, "rgb24")]
    [InlineData("pal8", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb565le", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb555le", PixelFormat.Rgb24, "rgb24")]
    [InlineData("monob", PixelFormat.Rgb24, "rgb24")]
    public void Bmp_FromFfmpeg_MatchesFfmpeg(string pixelFormat, PixelFormat expected, string compareAs)
    {
        var path = Encode("bmp", pixelFormat, []);

        using var frame = Decode(path);

        Assert.Equal((67, 45, expected), (frame.Width, frame.Height, frame.Format));
        Assert.Equal(Reference(path, compareAs), frame.Pixels.ToArray());
    }

    [Theory]
    [InlineData("RGB", 8, PixelFormat.Rgb24)]
    [InlineData("RGBA", 8, PixelFormat.Rgba32)]
    [InlineData("L", 16, PixelFormat.Gray16)]
    [InlineData("L", 2, PixelFormat.Gray8)]
    public void Png_Interlaced_FromPypng_MatchesTheWrittenPixels(string mode, int depth, PixelFormat expected)
    {
        // pypng (Debian python3-png) writes Adam7-interlaced PNGs, which ffmpeg's encoder cannot.
        var path = Path.Combine(_folder, "interlaced.png");
        var channels = mode.Length;
        var script = $$"""
            import png, sys
            w, h, c, depth = 37, 29, {{channels}}, {{depth}}
            top = (1 << depth) - 1
            rows = [[((x * 7 + y * 13 + k * 101) * 37) % (top + 1) for x in range(w) for k in range(c)] for y in range(h)]
            png.Writer(w, h, greyscale={{(mode == "L" ? "True" : "False")}}, alpha={{(mode == "RGBA" ? "True" : "False")}}, bitdepth=depth, interlace=True).write(open(sys.argv[1], "wb"), rows)
            """;
        var written = Tool.Run("/usr/bin/python3", ["-c", script, path]);
        Assert.True(written.ExitCode == 0, written.ToString());
        Assert.Equal(1, File.ReadAllBytes(path)[28]);

        using var frame = Decode(path);

        Assert.Equal((37, 29, expected), (frame.Width, frame.Height, frame.Format));
        var top = (1 << depth) - 1;
        var pixels = frame.Pixels;
        for (var y = 0; y < 29; y++)
        {
            for (var x = 0; x < 37; x++)
            {
                for (var k = 0; k < channels; k++)
                {
                    var value = ((x * 7) + (y * 13) + (k * 101)) * 37 % (top + 1);
                    var i = (((y * 37) + x) * channels) + k;
                    var actual = depth == 16 ? BinaryPrimitives.ReadUInt16LittleEndian(pixels[(i * 2)..]) : pixels[i];
                    // Sub-byte grey is scaled to 0-255, as every viewer shows it.
                    Assert.Equal(depth == 2 ? value * 255 / top : value, actual);
                }
            }
        }
    }

    private static Frame Decode(string path) => ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs());

    private string Encode(string extension, string pixelFormat, string[] options)
    {
        var path = Path.Combine(_folder, $"{pixelFormat}-{Guid.NewGuid():N}.{extension}");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=80x60", "-vf", "scale=67:45", "-frames:v", "1", "-pix_fmt", pixelFormat, .. options, "-y", path]);
        return path;
    }

    private static byte[] Reference(string path, string? pixelFormat)
    {
        if (pixelFormat is not null)
        {
            return Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", pixelFormat, "-"]);
        }

        // 16-bit colour keeps each sample's high byte.
        var wide = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb48be", "-"]);
        return wide.Where((_, i) => i % 2 == 0).ToArray();
    }
}
