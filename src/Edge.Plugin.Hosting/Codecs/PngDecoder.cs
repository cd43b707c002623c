using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// A managed PNG decoder: bit depths 1 to 16; grey, grey+alpha, RGB, RGBA and palette; Adam7
/// interlacing. Chunk CRCs are checked and the declared size is bounded before anything is inflated.
/// </summary>
internal static class PngDecoder
{
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // (first row, first column, row step, column step) of each Adam7 pass.
    private static readonly (int Row, int Col, int RowStep, int ColStep)[] Adam7 =
        [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)];

    private static readonly (int Row, int Col, int RowStep, int ColStep)[] SinglePass = [(0, 0, 1, 1)];

    public static Frame Decode(ReadOnlySpan<byte> data, string source, long timestampNs, long maxPixels)
    {
        var compressed = ArrayPool<byte>.Shared.Rent(data.Length);
        try
        {
            var (header, palette, compressedLength) = ReadChunks(data, source, compressed);
            return DecodeImage(header, palette, compressed.AsMemory(0, compressedLength), source, timestampNs, maxPixels);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    private static (Header Header, byte[]? Palette, int CompressedLength) ReadChunks(ReadOnlySpan<byte> data, string source, byte[] compressed)
    {
        Header? header = null;
        byte[]? palette = null;
        var compressedLength = 0;
        var position = Signature.Length;
        while (true)
        {
            if (position + 12 > data.Length)
            {
                throw new FrameSourceException(source, "truncated PNG: the file ends before its IEND chunk");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var typeBytes = data.Slice(position + 4, 4);
            var type = Encoding.ASCII.GetString(typeBytes);
            if (length > (uint)(data.Length - position - 12))
            {
                throw new FrameSourceException(source, $"truncated PNG: chunk {type} declares {length} bytes but the file ends first");
            }

            var body = data.Slice(position + 8, (int)length);
            var storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(position + 8 + (int)length)..]);
            if (Crc32.Compute(data.Slice(position + 4, 4 + (int)length)) != storedCrc)
            {
                throw new FrameSourceException(source, $"corrupt PNG: chunk {type} fails its CRC check");
            }

            position += 12 + (int)length;
            switch (type)
            {
                case "IHDR":
                    header = Header.Parse(body, source);
                    break;
                case "PLTE":
                    palette = body.ToArray();
                    break;
                case "IDAT":
                    body.CopyTo(compressed.AsSpan(compressedLength));
                    compressedLength += body.Length;
                    break;
                case "IEND":
                    return (header ?? throw new FrameSourceException(source, "corrupt PNG: no IHDR chunk"), palette, compressedLength);
                default:
                    if (header is null)
                    {
                        throw new FrameSourceException(source, $"corrupt PNG: chunk {type} comes before IHDR");
                    }

                    break;
            }
        }
    }

    private static Frame DecodeImage(Header header, byte[]? palette, ReadOnlyMemory<byte> compressed, string source, long timestampNs, long maxPixels)
    {
        ImageDecoder.CheckSize(source, header.Width, header.Height, maxPixels);
        if (header.ColorType == 3 && palette is null)
        {
            throw new FrameSourceException(source, "corrupt PNG: a palette image without a PLTE chunk");
        }

        var passes = header.Interlaced ? Adam7 : SinglePass;
        long rawSize = 0;
        foreach (var pass in passes)
        {
            var (w, h) = PassSize(header, pass);
            if (w > 0 && h > 0)
            {
                rawSize += h * (1L + header.RowBytes(w));
            }
        }

        var frame = Frame.Rent(header.Width, header.Height, header.OutputFormat, timestampNs, source);
        var raw = ArrayPool<byte>.Shared.Rent(checked((int)rawSize));
        try
        {
            Inflate(compressed, raw.AsSpan(0, (int)rawSize), source);
            var offset = 0;
            var rowBytes = header.RowBytes(header.Width);
            var previous = ArrayPool<byte>.Shared.Rent(rowBytes);
            try
            {
                foreach (var pass in passes)
                {
                    var (w, h) = PassSize(header, pass);
                    if (w == 0 || h == 0)
                    {
                        continue;
                    }

                    var passRowBytes = header.RowBytes(w);
                    previous.AsSpan(0, passRowBytes).Clear();
                    for (var r = 0; r < h; r++)
                    {
                        var filter = raw[offset];
                        var row = raw.AsSpan(offset + 1, passRowBytes);
                        Unfilter(filter, row, previous.AsSpan(0, passRowBytes), header.FilterStride, source);
                        WriteRow(header, palette, row, frame, pass.Row + (r * pass.RowStep), pass.Col, pass.ColStep, w, source);
                        row.CopyTo(previous);
                        offset += 1 + passRowBytes;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(previous);
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
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private static void Inflate(ReadOnlyMemory<byte> compressed, Span<byte> destination, string source)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            // Reading exactly the size the header implies bounds memory no matter what the stream claims.
            var read = zlib.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (read < destination.Length)
            {
                throw new FrameSourceException(source, $"truncated PNG: image data holds {read} of the {destination.Length} bytes its size needs");
            }
        }
        catch (InvalidDataException e)
        {
            throw new FrameSourceException(source, $"corrupt PNG: the compressed image data is invalid ({e.Message})", e);
        }
    }

    private static (int Width, int Height) PassSize(Header header, (int Row, int Col, int RowStep, int ColStep) pass)
    {
        var w = header.Width <= pass.Col ? 0 : ((header.Width - pass.Col - 1) / pass.ColStep) + 1;
        var h = header.Height <= pass.Row ? 0 : ((header.Height - pass.Row - 1) / pass.RowStep) + 1;
        return (w, h);
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> previous, int stride, string source)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (var i = stride; i < row.Length; i++)
                {
                    row[i] += row[i - stride];
                }

                break;
            case 2:
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] += previous[i];
                }

                break;
            case 3:
                for (var i = 0; i < row.Length; i++)
                {
                    var left = i >= stride ? row[i - stride] : 0;
                    row[i] += (byte)((left + previous[i]) >> 1);
                }

                break;
            case 4:
                for (var i = 0; i < row.Length; i++)
                {
                    var left = i >= stride ? row[i - stride] : 0;
                    var upLeft = i >= stride ? previous[i - stride] : 0;
                    row[i] += Paeth(left, previous[i], upLeft);
                }

                break;
            default:
                throw new FrameSourceException(source, $"corrupt PNG: unknown row filter {filter}");
        }
    }

    private static byte Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        var pa = Math.Abs(p - a);
        var pb = Math.Abs(p - b);
        var pc = Math.Abs(p - c);
        return (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }

    private static void WriteRow(Header header, byte[]? palette, ReadOnlySpan<byte> row, Frame frame, int y, int x0, int dx, int count, string source)
    {
        var pixels = frame.Pixels;
        var bpp = Frame.BytesPerPixel(frame.Format);
        var rowStart = y * frame.Stride;
        var depth = header.BitDepth;
        var channels = header.Channels;
        for (var i = 0; i < count; i++)
        {
            var o = rowStart + ((x0 + (i * dx)) * bpp);
            switch (header.ColorType)
            {
                case 0 when depth == 16:
                    BinaryPrimitives.WriteUInt16LittleEndian(pixels[o..], BinaryPrimitives.ReadUInt16BigEndian(row[(i * 2)..]));
                    break;
                case 0:
                    pixels[o] = Sample8(row, i, 0, channels, depth);
                    break;
                case 3:
                    var index = SampleRaw(row, i, depth);
                    if ((index * 3) + 2 >= palette!.Length)
                    {
                        throw new FrameSourceException(source, $"corrupt PNG: pixel uses palette entry {index}, but the palette has {palette.Length / 3}");
                    }

                    pixels[o] = palette[index * 3];
                    pixels[o + 1] = palette[(index * 3) + 1];
                    pixels[o + 2] = palette[(index * 3) + 2];
                    break;
                case 4:
                    var grey = Sample8(row, i, 0, channels, depth);
                    pixels[o] = grey;
                    pixels[o + 1] = grey;
                    pixels[o + 2] = grey;
                    pixels[o + 3] = Sample8(row, i, 1, channels, depth);
                    break;
                default:
                    for (var c = 0; c < bpp; c++)
                    {
                        pixels[o + c] = Sample8(row, i, c, channels, depth);
                    }

                    break;
            }
        }
    }

    /// <summary>Channel c of pixel i as 8 bits: 16-bit samples keep their high byte, sub-byte ones are scaled up.</summary>
    private static byte Sample8(ReadOnlySpan<byte> row, int i, int c, int channels, int depth) => depth switch
    {
        8 => row[(i * channels) + c],
        16 => row[((i * channels) + c) * 2],
        _ => (byte)(SampleRaw(row, i, depth) * 255 / ((1 << depth) - 1)),
    };

    private static int SampleRaw(ReadOnlySpan<byte> row, int i, int depth)
    {
        if (depth == 8)
        {
            return row[i];
        }

        var bit = i * depth;
        return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    }

    private sealed record Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };

        public int BitsPerPixel => Channels * BitDepth;

        /// <summary>The distance, in bytes, to the same channel of the previous pixel (at least 1).</summary>
        public int FilterStride => Math.Max(1, BitsPerPixel / 8);

        public PixelFormat OutputFormat => ColorType switch
        {
            0 => BitDepth == 16 ? PixelFormat.Gray16 : PixelFormat.Gray8,
            2 or 3 => PixelFormat.Rgb24,
            _ => PixelFormat.Rgba32,
        };

        public int RowBytes(int width) => checked((int)(((long)width * BitsPerPixel + 7) / 8));

        public static Header Parse(ReadOnlySpan<byte> body, string source)
        {
            if (body.Length != 13)
            {
                throw new FrameSourceException(source, $"corrupt PNG: IHDR is {body.Length} bytes, not 13");
            }

            var width = BinaryPrimitives.ReadUInt32BigEndian(body);
            var height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
            int depth = body[8], colorType = body[9], compression = body[10], filter = body[11], interlace = body[12];
            var validDepth = colorType switch
            {
                0 => depth is 1 or 2 or 4 or 8 or 16,
                3 => depth is 1 or 2 or 4 or 8,
                2 or 4 or 6 => depth is 8 or 16,
                _ => false,
            };
            if (!validDepth || compression != 0 || filter != 0 || interlace > 1)
            {
                throw new FrameSourceException(source, $"unsupported or corrupt PNG header: colour type {colorType}, bit depth {depth}, compression {compression}, filter {filter}, interlace {interlace}");
            }

            if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            {
                throw new FrameSourceException(source, $"the image declares an impossible size {width}x{height}");
            }

            return new Header((int)width, (int)height, depth, colorType, interlace == 1);
        }
    }

    private static class Crc32
    {
        private static readonly uint[] Table = BuildTable();

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return crc ^ 0xFFFFFFFFu;
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (var n = 0u; n < 256; n++)
            {
                var c = n;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[n] = c;
            }

            return table;
        }
    }
}
