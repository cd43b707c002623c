using System.Buffers.Binary;
using System.Numerics;

namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// A managed BMP decoder: 1, 4 and 8-bit palette, 16-bit (5-5-5 or bit fields), 24 and 32-bit;
/// bottom-up or top-down rows; the Windows headers (40 to 124 bytes) and the old OS/2 one.
/// RLE-compressed BMPs are refused by name. 32-bit images keep alpha only when a mask declares it:
/// in a plain 32-bit BMP the fourth byte is unused by definition, and often garbage.
/// </summary>
internal static class BmpDecoder
{
    private const int FileHeaderSize = 14;

    public static bool IsBmp(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'B' && data[1] == 'M';

    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, long maxPixels)
    {
        if (data.Length < FileHeaderSize + 12)
        {
            throw new FrameSourceException(source, "truncated BMP: the file ends inside its header");
        }

        var pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
        if (headerSize is not (12 or 40 or 52 or 56 or 64 or 108 or 124) || FileHeaderSize + headerSize > data.Length)
        {
            throw new FrameSourceException(source, $"corrupt BMP: an information header of {headerSize} bytes");
        }

        var header = data.Slice(FileHeaderSize, headerSize);
        long width, height;
        int bits, compression = 0, paletteEntrySize = 4, colours = 0;
        if (headerSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
            height = BinaryPrimitives.ReadInt16LittleEndian(header[6..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            paletteEntrySize = 3;
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(header[14..]);
            compression = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
            colours = BinaryPrimitives.ReadInt32LittleEndian(header[32..]);
        }

        var topDown = height < 0;
        height = Math.Abs(height);
        ImageDecoder.CheckSize(source, width, height, maxPixels);
        if (compression is 1 or 2)
        {
            throw new FrameSourceException(source, $"BMP with RLE{(compression == 1 ? 8 : 4)} compression is not supported; save it uncompressed");
        }

        if (compression is not (0 or 3 or 6) || bits is not (1 or 4 or 8 or 16 or 24 or 32))
        {
            throw new FrameSourceException(source, $"BMP with {bits} bits per pixel and compression {compression} is not supported");
        }

        var masks = Masks(data, header, headerSize, compression, bits);
        var rowBytes = (((width * bits) + 31) / 32) * 4;
        if (pixelOffset > data.Length || pixelOffset + (rowBytes * height) > data.Length)
        {
            throw new FrameSourceException(source, $"truncated BMP: {width}x{height} at {bits} bits needs {rowBytes * height} bytes of pixels from offset {pixelOffset}, the file has {data.Length} bytes");
        }

        byte[]? palette = null;
        if (bits <= 8)
        {
            var count = colours > 0 ? Math.Min(colours, 1 << bits) : 1 << bits;
            var start = FileHeaderSize + headerSize + (compression == 3 && headerSize == 40 ? 12 : 0);
            if (start + (count * paletteEntrySize) > pixelOffset)
            {
                throw new FrameSourceException(source, "corrupt BMP: the palette overlaps the pixels");
            }

            palette = new byte[256 * 3];
            for (var i = 0; i < count; i++)
            {
                var entry = data.Slice(start + (i * paletteEntrySize), 3);
                palette[i * 3] = entry[2];
                palette[(i * 3) + 1] = entry[1];
                palette[(i * 3) + 2] = entry[0];
            }
        }

        var hasAlpha = bits == 32 && masks.A != 0;
        var frame = Frame.Rent((int)width, (int)height, hasAlpha ? PixelFormat.Rgba32 : PixelFormat.Rgb24, timestampNs, source);
        var bpp = hasAlpha ? 4 : 3;
        for (var y = 0; y < height; y++)
        {
            var row = data.Slice((int)(pixelOffset + (rowBytes * (topDown ? y : height - 1 - y))), (int)rowBytes);
            var dest = frame.Pixels.Slice(y * frame.Stride, frame.Stride);
            for (var x = 0; x < width; x++)
            {
                var d = dest[(x * bpp)..];
                switch (bits)
                {
                    case 24:
                        d[0] = row[(x * 3) + 2];
                        d[1] = row[(x * 3) + 1];
                        d[2] = row[x * 3];
                        break;
                    case 16 or 32:
                        var value = bits == 16 ? BinaryPrimitives.ReadUInt16LittleEndian(row[(x * 2)..]) : BinaryPrimitives.ReadUInt32LittleEndian(row[(x * 4)..]);
                        d[0] = Channel(value, masks.R);
                        d[1] = Channel(value, masks.G);
                        d[2] = Channel(value, masks.B);
                        if (hasAlpha)
                        {
                            d[3] = Channel(value, masks.A);
                        }

                        break;
                    default:
                        var index = bits == 8 ? row[x] : (row[(x * bits) >> 3] >> (8 - bits - ((x * bits) & 7))) & ((1 << bits) - 1);
                        palette.AsSpan(index * 3, 3).CopyTo(d);
                        break;
                }
            }
        }

        return frame;
    }

    private static (uint R, uint G, uint B, uint A) Masks(ReadOnlySpan<byte> data, ReadOnlySpan<byte> header, int headerSize, int compression, int bits)
    {
        if (compression is 3 or 6)
        {
            // Bit fields follow a 40-byte header, or sit inside a larger one.
            var at = headerSize == 40 ? data.Slice(FileHeaderSize + 40) : header[40..];
            if (at.Length < 12)
            {
                throw new FrameSourceException("BMP", "corrupt BMP: bit-field masks are missing");
            }

            var alpha = (headerSize >= 56 || compression == 6) && at.Length >= 16 ? BinaryPrimitives.ReadUInt32LittleEndian(at[12..]) : 0u;
            return (BinaryPrimitives.ReadUInt32LittleEndian(at), BinaryPrimitives.ReadUInt32LittleEndian(at[4..]), BinaryPrimitives.ReadUInt32LittleEndian(at[8..]), alpha);
        }

        return bits == 16 ? (0x7C00u, 0x03E0u, 0x001Fu, 0u) : (0x00FF0000u, 0x0000FF00u, 0x000000FFu, 0u);
    }

    // Scales a masked field of any width to 0-255 by repeating its bits (5-bit 31 becomes 255, not 248).
    private static byte Channel(uint value, uint mask)
    {
        if (mask == 0)
        {
            return 0;
        }

        var shift = BitOperations.TrailingZeroCount(mask);
        var width = BitOperations.PopCount(mask);
        var v = (value & mask) >> shift;
        if (width >= 8)
        {
            return (byte)(v >> (width - 8));
        }

        var result = 0u;
        for (var filled = 0; filled < 8; filled += width)
        {
            result = (result << width) | v;
        }

        return (byte)(result >> (((8 + width - 1) / width * width) - 8));
    }
}
