using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// A managed TIFF decoder for the first image of a file: 1, 8 and 16 bits per sample; grey
/// (either polarity), RGB, RGBA and palette; strips or tiles; uncompressed, PackBits, LZW and
/// Deflate, with or without the horizontal predictor; either byte order. 16-bit grey (microscope
/// images) stays 16-bit; 16-bit colour keeps each sample's high byte. Every offset is checked
/// against the file and every decompressed block is bounded by its expected size.
/// </summary>
internal static class TiffDecoder
{
    private const ushort TagWidth = 256, TagHeight = 257, TagBitsPerSample = 258, TagCompression = 259, TagPhotometric = 262;
    private const ushort TagStripOffsets = 273, TagSamplesPerPixel = 277, TagRowsPerStrip = 278, TagStripByteCounts = 279;
    private const ushort TagPlanar = 284, TagPredictor = 317, TagColorMap = 320, TagTileWidth = 322, TagTileLength = 323;
    private const ushort TagTileOffsets = 324, TagTileByteCounts = 325, TagSampleFormat = 339;

    public static bool IsTiff(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && ((data[0] == 'I' && data[1] == 'I' && data[2] == 42 && data[3] == 0) || (data[0] == 'M' && data[1] == 'M' && data[2] == 0 && data[3] == 42));

    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, long maxPixels)
    {
        var reader = new Reader(data, source);
        var tags = reader.ReadFirstDirectory();
        var width = reader.Single(tags, TagWidth);
        var height = reader.Single(tags, TagHeight);
        ImageDecoder.CheckSize(source, width, height, maxPixels);

        var samples = (int)reader.Single(tags, TagSamplesPerPixel, 1);
        var bits = (int)reader.Single(tags, TagBitsPerSample, 1);
        var compression = (int)reader.Single(tags, TagCompression, 1);
        var photometric = (int)reader.Single(tags, TagPhotometric, samples >= 3 ? 2 : 1);
        var predictor = (int)reader.Single(tags, TagPredictor, 1);
        if (reader.Single(tags, TagSampleFormat, 1) is not 1 and var format)
        {
            throw Unsupported(source, format == 3 ? "floating-point samples" : $"sample format {format}");
        }

        if (reader.Single(tags, TagPlanar, 1) != 1 && samples > 1)
        {
            throw Unsupported(source, "separate colour planes (PlanarConfiguration 2)");
        }

        if (bits is not (1 or 8 or 16) || (bits == 1 && samples != 1))
        {
            throw Unsupported(source, $"{bits} bits per sample");
        }

        if (compression is not (1 or 5 or 8 or 32946 or 32773))
        {
            throw Unsupported(source, $"compression {compression} (readable: none, PackBits, LZW, Deflate)");
        }

        if (predictor is not (1 or 2))
        {
            throw Unsupported(source, $"predictor {predictor}");
        }

        var (output, layout) = (photometric, samples) switch
        {
            (0 or 1, 1) => (bits == 16 ? PixelFormat.Gray16 : PixelFormat.Gray8, Layout.Gray),
            (0 or 1, 2) => (PixelFormat.Gray8, Layout.GrayAlpha),
            (2, 3) => (PixelFormat.Rgb24, Layout.Rgb),
            (2, >= 4) => (PixelFormat.Rgba32, Layout.Rgba),
            (3, 1) when bits == 8 => (PixelFormat.Rgb24, Layout.Palette),
            _ => throw Unsupported(source, $"photometric interpretation {photometric} with {samples} samples per pixel"),
        };
        var palette = layout == Layout.Palette ? reader.ReadValues(tags.Get(TagColorMap) ?? throw Corrupt(source, "a palette image without a ColorMap")) : null;
        if (palette is not null && palette.Length < 3 * 256)
        {
            throw Corrupt(source, $"the ColorMap has {palette.Length} entries, not 768");
        }

        var tiled = tags.Get(TagTileOffsets) is not null;
        var blockWidth = tiled ? reader.Single(tags, TagTileWidth) : width;
        var blockHeight = tiled ? reader.Single(tags, TagTileLength) : Math.Min(height, reader.Single(tags, TagRowsPerStrip, height));
        if (blockWidth <= 0 || blockHeight <= 0 || blockWidth > 65536 || blockHeight > 65536)
        {
            throw Corrupt(source, $"impossible {(tiled ? "tile" : "strip")} size {blockWidth}x{blockHeight}");
        }

        var offsets = reader.ReadValues(tags.Get(tiled ? TagTileOffsets : TagStripOffsets) ?? throw Corrupt(source, "no strip or tile offsets"));
        var counts = reader.ReadValues(tags.Get(tiled ? TagTileByteCounts : TagStripByteCounts) ?? throw Corrupt(source, "no strip or tile byte counts"));
        var across = (int)((width + blockWidth - 1) / blockWidth);
        var down = (int)((height + blockHeight - 1) / blockHeight);
        if (offsets.Length < (long)across * down || counts.Length < offsets.Length)
        {
            throw Corrupt(source, $"{offsets.Length} blocks for an image that needs {(long)across * down}");
        }

        var rowBytes = (int)(((blockWidth * samples * bits) + 7) / 8);
        var blockBytes = checked(rowBytes * (int)blockHeight);
        var frame = Frame.Rent((int)width, (int)height, output, timestampNs, source);
        var block = ArrayPool<byte>.Shared.Rent(blockBytes);
        try
        {
            for (var by = 0; by < down; by++)
            {
                for (var bx = 0; bx < across; bx++)
                {
                    var index = (by * across) + bx;
                    if (offsets[index] + counts[index] > data.Length || counts[index] < 0)
                    {
                        throw Corrupt(source, $"block {index} lies past the end of the file (truncated?)");
                    }

                    var compressed = data.Slice((int)offsets[index], (int)counts[index]);
                    var target = block.AsSpan(0, blockBytes);
                    Decompress(compression, compressed, target, source);
                    if (predictor == 2)
                    {
                        UndoPredictor(target, rowBytes, samples, bits, reader.BigEndian);
                    }

                    var rows = (int)Math.Min(blockHeight, height - (by * blockHeight));
                    var cols = (int)Math.Min(blockWidth, width - (bx * blockWidth));
                    for (var r = 0; r < rows; r++)
                    {
                        WriteRow(target.Slice(r * rowBytes, rowBytes), frame, (int)(by * blockHeight) + r, (int)(bx * blockWidth), cols, layout, samples, bits, photometric == 0, reader.BigEndian, palette);
                    }
                }
            }

            return frame;
        }
        catch
        {
            frame.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private enum Layout
    {
        Gray,
        GrayAlpha,
        Rgb,
        Rgba,
        Palette,
    }

    private static void Decompress(int compression, ReadOnlySpan<byte> input, Span<byte> output, string source)
    {
        int written;
        switch (compression)
        {
            case 1:
                written = Math.Min(input.Length, output.Length);
                input[..written].CopyTo(output);
                break;
            case 32773:
                written = PackBits(input, output);
                break;
            case 5:
                written = Lzw.Decode(input, output, source);
                break;
            default:
                written = Inflate(input, output, source);
                break;
        }

        // A short last strip is legal; a short middle one leaves zeros, which a truncated file would too,
        // so a block with nothing at all in it is the case worth refusing.
        if (written == 0 && output.Length > 0)
        {
            throw Corrupt(source, "an image block decodes to nothing");
        }

        output[written..].Clear();
    }

    private static int PackBits(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < input.Length && o < output.Length)
        {
            var n = (sbyte)input[i++];
            if (n >= 0)
            {
                var count = Math.Min(Math.Min(n + 1, input.Length - i), output.Length - o);
                input.Slice(i, count).CopyTo(output[o..]);
                i += n + 1;
                o += count;
            }
            else if (n != -128 && i < input.Length)
            {
                var count = Math.Min(1 - n, output.Length - o);
                output.Slice(o, count).Fill(input[i++]);
                o += count;
            }
        }

        return o;
    }

    private static int Inflate(ReadOnlySpan<byte> input, Span<byte> output, string source)
    {
        var copy = ArrayPool<byte>.Shared.Rent(input.Length);
        try
        {
            input.CopyTo(copy);
            using var zlib = new ZLibStream(new MemoryStream(copy, 0, input.Length), CompressionMode.Decompress);
            var total = 0;
            int n;
            while (total < output.Length && (n = zlib.Read(output[total..])) > 0)
            {
                total += n;
            }

            return total;
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(source, $"Deflate data is damaged ({e.Message})");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static void UndoPredictor(Span<byte> block, int rowBytes, int samples, int bits, bool bigEndian)
    {
        for (var row = 0; row + rowBytes <= block.Length; row += rowBytes)
        {
            var line = block.Slice(row, rowBytes);
            if (bits == 8)
            {
                for (var i = samples; i < line.Length; i++)
                {
                    line[i] += line[i - samples];
                }
            }
            else if (bits == 16)
            {
                for (var i = samples * 2; i + 1 < line.Length; i += 2)
                {
                    var value = (ushort)(Read16(line[i..], bigEndian) + Read16(line[(i - (samples * 2))..], bigEndian));
                    if (bigEndian)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(line[i..], value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(line[i..], value);
                    }
                }
            }
        }
    }

    private static void WriteRow(ReadOnlySpan<byte> row, Frame frame, int y, int x0, int count, Layout layout, int samples, int bits, bool whiteIsZero, bool bigEndian, long[]? palette)
    {
        var bpp = Frame.BytesPerPixel(frame.Format);
        var dest = frame.Pixels.Slice((y * frame.Stride) + (x0 * bpp), count * bpp);
        if (frame.Format == PixelFormat.Gray16)
        {
            for (var x = 0; x < count; x++)
            {
                var v = Read16(row[(x * 2 * samples)..], bigEndian);
                BinaryPrimitives.WriteUInt16LittleEndian(dest[(x * 2)..], whiteIsZero ? (ushort)(ushort.MaxValue - v) : v);
            }

            return;
        }

        for (var x = 0; x < count; x++)
        {
            switch (layout)
            {
                case Layout.Palette:
                    var entry = row[x];
                    dest[x * 3] = (byte)(palette![entry] >> 8);
                    dest[(x * 3) + 1] = (byte)(palette[256 + entry] >> 8);
                    dest[(x * 3) + 2] = (byte)(palette[512 + entry] >> 8);
                    break;
                case Layout.Gray or Layout.GrayAlpha:
                    var g = Sample(row, x * samples, bits, bigEndian);
                    dest[x] = whiteIsZero ? (byte)(255 - g) : g;
                    break;
                default:
                    for (var c = 0; c < bpp; c++)
                    {
                        dest[(x * bpp) + c] = Sample(row, (x * samples) + c, bits, bigEndian);
                    }

                    break;
            }
        }
    }

    private static byte Sample(ReadOnlySpan<byte> row, int index, int bits, bool bigEndian) => bits switch
    {
        1 => ((row[index >> 3] >> (7 - (index & 7))) & 1) != 0 ? (byte)255 : (byte)0,
        8 => row[index],
        _ => (byte)(Read16(row[(index * 2)..], bigEndian) >> 8),
    };

    private static ushort Read16(ReadOnlySpan<byte> data, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(data) : BinaryPrimitives.ReadUInt16LittleEndian(data);

    private static FrameSourceException Unsupported(string source, string what) => new(source, $"TIFF with {what} is not supported");

    private static FrameSourceException Corrupt(string source, string what) => new(source, $"corrupt TIFF: {what}");

    /// <summary>One directory entry: its type, count and either the value itself or where the values are.</summary>
    private readonly record struct Entry(ushort Type, long Count, long ValueOrOffset, int EntryOffset);

    private sealed class Tags(Dictionary<ushort, Entry> entries)
    {
        public Entry? Get(ushort tag) => entries.TryGetValue(tag, out var e) ? e : null;
    }

    private readonly ref struct Reader(ReadOnlySpan<byte> data, string source)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public bool BigEndian => _data[0] == 'M';

        public long Single(Tags tags, ushort tag, long? fallback = null)
        {
            if (tags.Get(tag) is not { } entry)
            {
                return fallback ?? throw Corrupt(source, $"required tag {tag} is missing");
            }

            var values = ReadValues(entry);
            return values.Length > 0 ? values[0] : throw Corrupt(source, $"tag {tag} has no value");
        }

        public Tags ReadFirstDirectory()
        {
            if (_data.Length < 8)
            {
                throw Corrupt(source, "the file ends inside its header");
            }

            var offset = U32(4);
            if (offset < 8 || offset + 2 > _data.Length)
            {
                throw Corrupt(source, $"the first directory offset {offset} lies outside the {_data.Length}-byte file (truncated?)");
            }

            var count = U16((int)offset);
            if (offset + 2 + (count * 12L) > _data.Length)
            {
                throw Corrupt(source, "the file ends inside its first directory (truncated?)");
            }

            var entries = new Dictionary<ushort, Entry>();
            for (var i = 0; i < count; i++)
            {
                var at = (int)offset + 2 + (i * 12);
                var type = U16(at + 2);
                var n = U32(at + 4);
                var size = TypeSize(type) * n;
                var value = size <= 4 ? at + 8 : U32(at + 8);
                if (size > 4 && value + size > _data.Length)
                {
                    throw Corrupt(source, $"tag {U16(at)} points past the end of the file (truncated?)");
                }

                entries[U16(at)] = new Entry(type, n, value, at);
            }

            return new Tags(entries);
        }

        public long[] ReadValues(Entry entry)
        {
            var size = TypeSize(entry.Type);
            if (size == 0 || entry.Count > 16_000_000)
            {
                throw Corrupt(source, $"a tag of type {entry.Type} with {entry.Count} values");
            }

            var values = new long[entry.Count];
            for (var i = 0; i < values.Length; i++)
            {
                var at = (int)entry.ValueOrOffset + (i * size);
                values[i] = size switch
                {
                    1 => _data[at],
                    2 => U16(at),
                    _ => U32(at),
                };
            }

            return values;
        }

        private static int TypeSize(ushort type) => type switch
        {
            1 or 2 or 6 or 7 => 1,
            3 or 8 => 2,
            4 or 9 => 4,
            _ => 0,
        };

        private ushort U16(int at) => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(_data[at..]) : BinaryPrimitives.ReadUInt16LittleEndian(_data[at..]);

        private long U32(int at) => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_data[at..]) : BinaryPrimitives.ReadUInt32LittleEndian(_data[at..]);
    }

    /// <summary>TIFF's LZW: codes of 9 to 12 bits, most significant bit first, widened one code early.</summary>
    private static class Lzw
    {
        private const int Clear = 256, End = 257;

        public static int Decode(ReadOnlySpan<byte> input, Span<byte> output, string source)
        {
            if (input.Length >= 2 && input[0] == 0 && (input[1] & 1) != 0)
            {
                throw Unsupported(source, "old-style (LSB-first) LZW");
            }

            // Each table entry is (prefix code, last byte, length); strings are rebuilt backwards into the output.
            Span<short> prefix = stackalloc short[4096];
            Span<byte> suffix = stackalloc byte[4096];
            Span<short> length = stackalloc short[4096];
            for (var i = 0; i < 256; i++)
            {
                prefix[i] = -1;
                suffix[i] = (byte)i;
                length[i] = 1;
            }

            int next = 258, width = 9, previous = -1, o = 0;
            long bitBuffer = 0;
            int bitCount = 0, i2 = 0;
            while (o < output.Length)
            {
                while (bitCount < width)
                {
                    if (i2 >= input.Length)
                    {
                        return o;
                    }

                    bitBuffer = (bitBuffer << 8) | input[i2++];
                    bitCount += 8;
                }

                var code = (int)((bitBuffer >> (bitCount - width)) & ((1 << width) - 1));
                bitCount -= width;
                if (code == End)
                {
                    return o;
                }

                if (code == Clear)
                {
                    next = 258;
                    width = 9;
                    previous = -1;
                    continue;
                }

                int first;
                if (previous < 0)
                {
                    if (code > 255)
                    {
                        throw Corrupt(source, "LZW data starts with an undefined code");
                    }

                    output[o++] = (byte)code;
                    previous = code;
                    continue;
                }

                if (code < next)
                {
                    o = Emit(code, prefix, suffix, length, output, o);
                    first = FirstByte(code, prefix, suffix);
                }
                else if (code == next)
                {
                    first = FirstByte(previous, prefix, suffix);
                    o = Emit(previous, prefix, suffix, length, output, o);
                    if (o < output.Length)
                    {
                        output[o++] = (byte)first;
                    }
                }
                else
                {
                    throw Corrupt(source, "LZW data uses an undefined code");
                }

                if (next < 4096)
                {
                    prefix[next] = (short)previous;
                    suffix[next] = (byte)first;
                    length[next] = (short)(length[previous] + 1);
                    next++;
                }

                // "Early change": the code width grows one code before the table needs it.
                width = next >= 2047 ? 12 : next >= 1023 ? 11 : next >= 511 ? 10 : 9;
                previous = code;
            }

            return o;
        }

        private static int FirstByte(int code, ReadOnlySpan<short> prefix, ReadOnlySpan<byte> suffix)
        {
            while (prefix[code] >= 0)
            {
                code = prefix[code];
            }

            return suffix[code];
        }

        private static int Emit(int code, ReadOnlySpan<short> prefix, ReadOnlySpan<byte> suffix, ReadOnlySpan<short> length, Span<byte> output, int o)
        {
            var n = length[code];
            var end = o + n;
            for (var p = end - 1; p >= o; p--)
            {
                if (p < output.Length)
                {
                    output[p] = suffix[code];
                }

                code = prefix[code];
            }

            return Math.Min(end, output.Length);
        }
    }
}
