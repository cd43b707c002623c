using System.Buffers.Binary;
using Edge.Plugin.Hosting.Codecs;
using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// A corpus of broken files for every format: truncated, corrupt, zero bytes, an absurd declared
/// size, the wrong extension. Each gets a clear error naming the file, without a large allocation,
/// and a folder holding them still yields its good images.
/// </summary>
public sealed class CodecBadFileTests : IDisposable
{
    private const long MemoryBound = 16 * 1024 * 1024;
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-bad-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Formats => new() { "jpg", "png", "tif", "bmp" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Truncated_ClearError(string extension)
    {
        var data = Good(extension);

        var message = Refused(data[..(data.Length / 2)], $"half.{extension}");

        Assert.Matches("truncated|past the end|ends", message);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ZeroBytes_SaysEmpty(string extension)
    {
        Assert.Contains("empty (0 bytes)", Refused([], $"zero.{extension}"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jpg", 20, "JPEG")]
    [InlineData("png", 16, "CRC")]
    [InlineData("tif", 4, "TIFF")]
    [InlineData("bmp", 14, "BMP")]
    public void CorruptHeader_ClearError(string extension, int offset, string expected)
    {
        var data = Good(extension);
        for (var i = offset; i < offset + 8; i++)
        {
            data[i] ^= 0x5A;
        }

        Assert.Contains(expected, Refused(data, $"corrupt.{extension}"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void HugeDeclaredSize_RefusedBeforeAllocating(string extension)
    {
        var data = extension switch
        {
            "jpg" => JpegDeclaring(Good("jpg"), 60000, 60000),
            "png" => PngDeclaring(Good("png"), 60000, 60000),
            "tif" => TiffDeclaring(60000, 60000),
            _ => BmpDeclaring(Good("bmp"), 60000, 60000),
        };

        var before = GC.GetAllocatedBytesForCurrentThread();
        var message = Refused(data, $"bomb.{extension}");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("60000x60000", message, StringComparison.Ordinal);
        Assert.Contains("over the limit", message, StringComparison.Ordinal);
        Assert.True(allocated < MemoryBound, $"{allocated} bytes allocated to refuse a bomb");
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void WrongExtension_DecodesByContent(string extension)
    {
        var data = Good(extension);

        using var frame = ImageDecoder.Decode(data, "photo.gif", Clock.NowNs());

        Assert.Equal((80, 60), (frame.Width, frame.Height));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TextWithImageExtension_SaysNotAnImage(string extension)
    {
        Assert.Contains("not a JPEG, PNG, TIFF or BMP", Refused("just some notes\n"u8.ToArray(), $"notes.{extension}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FolderOfGoodAndBad_ReportsEachBadOne_KeepsTheGood()
    {
        foreach (var extension in new[] { "jpg", "png", "tif", "bmp" })
        {
            File.WriteAllBytes(Path.Combine(_folder, $"good.{extension}"), Good(extension));
            File.WriteAllBytes(Path.Combine(_folder, $"zero.{extension}"), []);
            File.WriteAllBytes(Path.Combine(_folder, $"half.{extension}"), Good(extension)[..100]);
        }

        await using var source = FrameSources.Create(_folder);
        var good = new List<string>();
        var bad = new List<string>();
        while (true)
        {
            try
            {
                using var frame = await source.ReadAsync(default);
                if (frame is null)
                {
                    break;
                }

                good.Add(Path.GetFileName(frame.Source));
            }
            catch (FrameSourceException e)
            {
                bad.Add(Path.GetFileName(e.SourceName));
            }
        }

        Assert.Equal(["good.bmp", "good.jpg", "good.png", "good.tif"], good);
        Assert.Equal(8, bad.Count);
    }

    private static string Refused(byte[] data, string name)
    {
        var error = Assert.Throws<FrameSourceException>(() => ImageDecoder.Decode(data, name, Clock.NowNs()));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        return error.Message;
    }

    private byte[] Good(string extension)
    {
        var path = Path.Combine(_folder, $"source-{Guid.NewGuid():N}.{extension}");
        // TIFF as RGB: ffmpeg would otherwise write YCbCr, which this decoder refuses by name.
        string[] format = extension == "tif" ? ["-pix_fmt", "rgb24"] : [];
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=80x60", "-frames:v", "1", .. format, "-y", path]);
        var data = File.ReadAllBytes(path);
        File.Delete(path);
        return data;
    }

    private static byte[] JpegDeclaring(byte[] data, int width, int height)
    {
        // The baseline frame header (SOF0, FF C0): length(2) precision(1) height(2) width(2).
        for (var i = 2; i < data.Length - 9; i++)
        {
            if (data[i] == 0xFF && data[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(i + 7), (ushort)width);
                return data;
            }
        }

        throw new InvalidOperationException("no SOF marker");
    }

    private static byte[] PngDeclaring(byte[] data, int width, int height)
    {
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(16), (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(20), (uint)height);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(29), CodecTests.Crc(data.AsSpan(12, 17)));
        return data;
    }

    private static byte[] BmpDeclaring(byte[] data, int width, int height)
    {
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), height);
        return data;
    }

    /// <summary>A 111-byte grey TIFF whose directory claims a giant image backed by one byte of pixels.</summary>
    private static byte[] TiffDeclaring(int width, int height)
    {
        (ushort Tag, uint Value)[] entries = [(256, (uint)width), (257, (uint)height), (258, 8), (259, 1), (262, 1), (273, 8 + 2 + (8 * 12) + 4), (278, (uint)height), (279, 1)];
        var data = new byte[8 + 2 + (entries.Length * 12) + 4 + 1];
        "II*\0"u8.CopyTo(data);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), (ushort)entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var at = 10 + (i * 12);
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(at), entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(at + 2), 4);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at + 4), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at + 8), entries[i].Value);
        }

        return data;
    }
}
