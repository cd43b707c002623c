using System.Buffers.Binary;

namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    private const int Failed = 1;
    private const int Usage = 2;
    private const int StartFailed = 3;

    /// <summary>Each image as <c>-input</c> of a plugin: a refused frame exits 1 and names the file.</summary>
    private IEnumerable<BadInputCase> Images()
    {
        (string Extension, string PixelFormat)[] formats = [("jpg", ""), ("png", ""), ("tif", ""), ("bmp", ""), ("png", "gray16be"), ("tif", "gray16le")];
        foreach (var (extension, pixels) in formats)
        {
            var label = pixels.Length > 0 ? $"{extension}-{pixels}" : extension;
            var good = Encode(extension, pixels);
            foreach (var fraction in new[] { 0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99 })
            {
                var length = Math.Max(1, (int)(good.Length * fraction));
                yield return Image(label, $"truncated-to-{length}-bytes", extension, good[..length], [Failed]);
            }

            yield return Image(label, "zero-bytes", extension, [], [Failed]);
            yield return Image(label, "signature-only", extension, good[..Math.Min(8, good.Length)], [Failed]);

            // Flipped bytes past the header may still leave a decodable image: 0 is as right as a clear 1.
            for (var seed = 0; seed < 6; seed++)
            {
                yield return Image(label, $"corrupted-{seed}", extension, Corrupted(good, 16, 4 + (seed * 8)), [0, Failed]);
            }

            yield return Image(label, "header-corrupted", extension, Corrupted(good, 0, 12)[..Math.Min(good.Length, 64)].Concat(good[64..]).ToArray(), [0, Failed]);
            yield return Image(label, "trailing-garbage", extension, [.. good, .. Noise(4096)], [0, Failed]);
            yield return Image(label, "noise-with-the-extension", extension, Noise(2048), [Failed]);
        }

        var jpeg = Encode("jpg");
        var png = Encode("png");
        var bmp = Encode("bmp");
        yield return Image("jpg", "declares-60000x60000", "jpg", JpegDeclaring(jpeg.ToArray(), 60000, 60000), [Failed]);
        yield return Image("jpg", "declares-0x0", "jpg", JpegDeclaring(jpeg.ToArray(), 0, 0), [Failed]);
        yield return Image("png", "declares-60000x60000", "png", PngDeclaring(png.ToArray(), 60000, 60000), [Failed]);
        yield return Image("png", "declares-0x0", "png", PngDeclaring(png.ToArray(), 0, 0), [Failed]);
        yield return Image("png", "declares-2^31-wide", "png", PngDeclaring(png.ToArray(), int.MaxValue, 1), [Failed]);
        yield return Image("bmp", "declares-60000x60000", "bmp", BmpDeclaring(bmp.ToArray(), 60000, 60000), [Failed]);
        yield return Image("bmp", "declares-negative-width", "bmp", BmpDeclaring(bmp.ToArray(), -80, 60), [Failed]);
        yield return Image("tif", "declares-60000x60000-with-one-byte", "tif", TiffDeclaring(60000, 60000), [Failed]);
        yield return Image("jpg", "png-named-jpg", "jpg", png, [0, Failed]);
        yield return Image("png", "jpeg-named-png", "png", jpeg, [0, Failed]);
        yield return Image("txt", "text-named-jpg", "jpg", System.Text.Encoding.UTF8.GetBytes("this is not an image\n"), [Failed]);

        // Files that are not regular files: they must be refused by what they are, never opened and read.
        var fifo = Fifo("fifo.jpg");
        yield return Special("fifo", fifo);
        yield return Special("dev-zero", "/dev/zero");
        yield return Special("dev-urandom", "/dev/urandom");
        var directory = Path.Combine(Folder, "folder.jpg");
        Directory.CreateDirectory(Path.Combine(directory, "empty"));
        yield return Special("directory-named-jpg", Path.Combine(directory, "empty"));
        yield return Special("missing-file", Path.Combine(Folder, "no-such-image.jpg"));
        var loop = Path.Combine(Folder, "loop.jpg");
        File.CreateSymbolicLink(loop, loop);
        yield return Special("symlink-to-itself", loop);
        var dangling = Path.Combine(Folder, "dangling.jpg");
        File.CreateSymbolicLink(dangling, Path.Combine(Folder, "gone.jpg"));
        yield return Special("dangling-symlink", dangling);
    }

    private BadInputCase Image(string format, string name, string extension, byte[] bytes, int[] exitCodes)
    {
        var file = $"{format}-{name}.{extension}";
        var path = Write(Path.Combine("images", file), bytes);
        return new BadInputCase("image", $"{format}/{name}", Child.Dotnet(Child.Probe, ["plugin", "-mode", "dev", "-input", path]), exitCodes, [file]);
    }

    private static BadInputCase Special(string name, string path) =>
        new("image", $"special/{name}", Child.Dotnet(Child.Probe, ["plugin", "-mode", "dev", "-input", path]), [Failed, Usage, StartFailed], [path]);

    private static byte[] JpegDeclaring(byte[] data, int width, int height)
    {
        // The frame header (SOF0-2, FF C0-C2): length(2) precision(1) height(2) width(2).
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
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(29), Crc32(data.AsSpan(12, 17)));
        return data;
    }

    private static byte[] BmpDeclaring(byte[] data, int width, int height)
    {
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), height);
        return data;
    }

    /// <summary>A grey TIFF whose directory claims a giant image backed by one byte of pixels.</summary>
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

    // PNG's chunk CRC, so that a changed header is refused for its sizes, not for its checksum.
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
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
