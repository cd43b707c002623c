using Edge.Plugin.Hosting.Codecs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

public sealed class CodecTests
{
    private static string Sample(string name) => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", name);

    [Fact]
    public void Jpeg_DecodesExactlyAsDjpeg()
    {
        var path = Sample("red-apple.jpg");

        using var frame = ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs());
        // djpeg (libjpeg-turbo-progs) is the reference decoder of the same library: the pixels must match exactly.
        var ppm = Tool.RunBinary("djpeg", ["-ppm", path]);
        var header = System.Text.Encoding.ASCII.GetBytes("P6\n320 240\n255\n");

        Assert.Equal((320, 240, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
        Assert.Equal(header, ppm[..header.Length]);
        Assert.Equal(ppm[header.Length..], frame.Pixels.ToArray());
    }

    [Theory]
    [InlineData("rgb24", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgba", PixelFormat.Rgba32, "rgba")]
    [InlineData("gray", PixelFormat.Gray8, "gray")]
    [InlineData("pal8", PixelFormat.Rgb24, "rgb24")]
    [InlineData("rgb48be", PixelFormat.Rgb24, null)]
    [InlineData("gray16be", PixelFormat.Gray16, "gray16le")]
    [InlineData("monob", PixelFormat.Gray8, "gray")]
    public void Png_EveryLayout_MatchesFfmpeg(string encodeAs, PixelFormat expected, string? compareAs)
    {
        var path = Path.Combine(Path.GetTempPath(), $"edge-{encodeAs}-{Guid.NewGuid():N}.png");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=80x60", "-vf", "scale=67:45", "-frames:v", "1", "-pix_fmt", encodeAs, "-y", path]);
        try
        {
            using var frame = ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs());

            Assert.Equal((67, 45, expected), (frame.Width, frame.Height, frame.Format));
            if (compareAs is not null)
            {
                var reference = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", compareAs, "-"]);
                Assert.Equal(reference, frame.Pixels.ToArray());
            }
            else
            {
                // 16-bit colour keeps each sample's high byte.
                var reference = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb48be", "-"]);
                Assert.Equal(reference.Where((_, i) => i % 2 == 0).ToArray(), frame.Pixels.ToArray());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Jpeg_Truncated_SaysTruncated()
    {
        var data = File.ReadAllBytes(Sample("sky.jpg"))[..5000];

        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data, "sky.jpg", Clock.NowNs()));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("sky.jpg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jpeg_CorruptBody_IsRefused()
    {
        var data = File.ReadAllBytes(Sample("sky.jpg"));
        var start = data.Length / 2;
        for (var i = start; i < start + 2000; i++)
        {
            data[i] = 0xFF;
        }

        Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data, "corrupt.jpg", Clock.NowNs()));
    }

    [Fact]
    public void Png_Truncated_SaysTruncated()
    {
        var data = File.ReadAllBytes(Sample("forest.png"));

        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data.AsSpan(0, data.Length - 20), "forest.png", Clock.NowNs()));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_FlippedBit_FailsItsCrc()
    {
        var data = File.ReadAllBytes(Sample("forest.png"));
        data[60] ^= 0x10;

        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data, "forest.png", Clock.NowNs()));

        Assert.Contains("CRC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroBytes_SaysEmpty()
    {
        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode([], "empty.jpg", Clock.NowNs()));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextNamedJpg_SaysNotAnImage()
    {
        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode("hello"u8, "notes.jpg", Clock.NowNs()));

        Assert.Contains("not a JPEG, PNG, TIFF or BMP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PngNamedJpg_DecodesByContent()
    {
        var data = File.ReadAllBytes(Sample("forest.png"));

        using var frame = ImageDecoder.Decode(data, "forest.jpg", Clock.NowNs());

        Assert.Equal(320, frame.Width);
    }

    [Fact]
    public void Png_HugeDeclaredSize_IsRefusedBeforeDecoding()
    {
        var data = File.ReadAllBytes(Sample("forest.png"));
        // Rewrite IHDR to 60000 x 60000 and fix its CRC, as a decompression bomb would.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(16), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(20), 60000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(29), Crc(data.AsSpan(12, 17)));

        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data, "bomb.png", Clock.NowNs()));

        Assert.Contains("over the limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jpeg_HugeDeclaredSize_IsRefusedBeforeDecoding()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edge-big-{Guid.NewGuid():N}.jpg");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "color=c=red:s=400x300", "-frames:v", "1", "-y", path]);
        try
        {
            var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(File.ReadAllBytes(path), path, Clock.NowNs(), maxPixels: 100_000));

            Assert.Contains("400x300", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static uint Crc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
