using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Edge.Plugin;

namespace Edge.Inference;

/// <summary>
/// Writes a frame into an image tensor with no intermediate image: a bilinear resize (stretched or
/// letterboxed), channel order, layout and normalisation in two passes. The horizontal pass gathers
/// one source row into float rows, one per channel (one alone for a grey frame or a grey model), and
/// keeps the last two, since neighbouring output rows share source rows; the vertical pass blends two
/// such rows and normalises with <see cref="Vector{T}"/>, straight into the tensor. Sampling tables
/// and row buffers are kept per size pair, so a steady stream of same-sized frames allocates nothing.
/// Pixel conversions (16-bit grey to 0-255, colour to luma) happen per source sample in the
/// horizontal pass, before any interpolation, as they would on the image itself.
/// </summary>
internal sealed class ImageTensorWriter
{
    private readonly ImagePreprocessing _options;
    private readonly float[] _gain = new float[3];
    private readonly float[] _offset = new float[3];
    private readonly int[] _rowTag = [-1, -1];
    private int _sourceWidth = -1;
    private int _sourceHeight = -1;
    private int _bytesPerPixel;
    private int _channels = 3;
    private int _planes = 3;
    private float _low16;
    private float _scale16;
    private int _targetWidth;
    private int _targetHeight;
    private int[] _x0 = [];
    private int[] _x1 = [];
    private float[] _wx = [];
    private int[] _y0 = [];
    private int[] _y1 = [];
    private float[] _wy = [];

    // Two cached source rows, each three channel planes of Placement.Width floats (only the first used
    // when _planes is 1), then one scratch row.
    private float[] _rows = [];

    public ImageTensorWriter(ImagePreprocessing options)
    {
        _options = options;
        var (mean, std) = (options.EffectiveMean, options.EffectiveStd);
        for (var c = 0; c < 3; c++)
        {
            // (v * scale - mean) / std  ==  v * gain + offset
            _gain[c] = options.Scale / std[c];
            _offset[c] = -mean[c] / std[c];
        }
    }

    /// <summary>Where the image landed in the tensor for the last frame; maps model coordinates back to the frame.</summary>
    public Letterbox Placement { get; private set; }

    /// <param name="frame">The frame, in any <see cref="PixelFormat"/>.</param>
    /// <param name="destination">The tensor: <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> values.</param>
    /// <param name="width">The tensor's width.</param>
    /// <param name="height">The tensor's height.</param>
    /// <param name="channelsFirst">NCHW rather than NHWC.</param>
    /// <param name="channels">3 for an RGB (or BGR) model, 1 for a grey one.</param>
    public void Write(Frame frame, Span<float> destination, int width, int height, bool channelsFirst, int channels = 3)
    {
        Prepare(frame, width, height, channels);
        var pad = _options.PadValue;
        for (var c = 0; c < channels; c++)
        {
            FillPadding(destination, c, channelsFirst, (pad * _gain[c]) + _offset[c]);
        }

        WriteRows(frame, destination, channelsFirst);
    }

    /// <inheritdoc cref="Write(Frame, Span{float}, int, int, bool, int)"/>
    public void Write(Frame frame, Span<byte> destination, int width, int height, bool channelsFirst, int channels = 3)
    {
        // uint8 models take raw 0-255 values; scale, mean and std do not apply.
        Prepare(frame, width, height, channels);
        for (var c = 0; c < channels; c++)
        {
            FillPadding(destination, c, channelsFirst, _options.PadValue);
        }

        WriteRows(frame, destination, channelsFirst);
    }

    private void WriteRows<T>(Frame frame, Span<T> destination, bool channelsFirst)
        where T : unmanaged
    {
        var pixels = frame.Pixels;
        var format = frame.Format;
        var map = ChannelMap(format);
        var channels = _channels;
        var placement = Placement;
        var w = placement.Width;
        var plane = _targetWidth * _targetHeight;
        var scratch = _rows.AsSpan(6 * w, w);
        _rowTag[0] = _rowTag[1] = -1;
        for (var y = 0; y < placement.Height; y++)
        {
            var (s0, s1) = SourceRows(pixels, frame.Stride, format, map, _y0[y], _y1[y]);
            var wy = _wy[y];
            var rowStart = ((y + placement.OffsetY) * _targetWidth) + placement.OffsetX;
            for (var c = 0; c < channels; c++)
            {
                var p = _planes == 1 ? 0 : c;
                var top = _rows.AsSpan(((s0 * 3) + p) * w, w);
                var bottom = _rows.AsSpan(((s1 * 3) + p) * w, w);
                if (typeof(T) == typeof(float))
                {
                    var floats = MemoryMarshal.Cast<T, float>(destination);
                    if (channelsFirst)
                    {
                        Blend(top, bottom, wy, _gain[c], _offset[c], floats.Slice((c * plane) + rowStart, w));
                    }
                    else
                    {
                        Blend(top, bottom, wy, _gain[c], _offset[c], scratch);
                        Interleave(scratch, floats[((rowStart * channels) + c)..], channels);
                    }
                }
                else
                {
                    var bytes = MemoryMarshal.Cast<T, byte>(destination);
                    Blend(top, bottom, wy, 1f, 0.5f, scratch);
                    if (channelsFirst)
                    {
                        ToBytes(scratch, bytes.Slice((c * plane) + rowStart, w), 1);
                    }
                    else
                    {
                        ToBytes(scratch, bytes[((rowStart * channels) + c)..], channels);
                    }
                }
            }
        }
    }

    /// <summary>Slots holding source rows <paramref name="r0"/> and <paramref name="r1"/>, gathering any not cached yet.</summary>
    private (int, int) SourceRows(ReadOnlySpan<byte> pixels, int stride, PixelFormat format, ChannelOffsets map, int r0, int r1)
    {
        var s0 = Array.IndexOf(_rowTag, r0);
        var s1 = Array.IndexOf(_rowTag, r1);
        if (s0 < 0)
        {
            s0 = s1 == 0 ? 1 : 0;
            Gather(pixels.Slice(r0 * stride, stride), format, map, s0);
            _rowTag[s0] = r0;
        }

        if (s1 < 0 && (s1 = Array.IndexOf(_rowTag, r1)) < 0)
        {
            s1 = s0 == 0 ? 1 : 0;
            Gather(pixels.Slice(r1 * stride, stride), format, map, s1);
            _rowTag[s1] = r1;
        }

        return (s0, s1);
    }

    /// <summary>Horizontal pass: one source row into float rows (<see cref="_planes"/> of them) at the placed width.</summary>
    private void Gather(ReadOnlySpan<byte> row, PixelFormat format, ChannelOffsets map, int slot)
    {
        var w = Placement.Width;
        var r = _rows.AsSpan(slot * 3 * w, w);
        ref var source = ref MemoryMarshal.GetReference(row);
        if (format == PixelFormat.Gray16)
        {
            for (var x = 0; x < w; x++)
            {
                r[x] = Lerp(Gray16Value(ref source, _x0[x]), Gray16Value(ref source, _x1[x]), _wx[x]);
            }

            return;
        }

        if (format == PixelFormat.Gray8)
        {
            for (var x = 0; x < w; x++)
            {
                r[x] = Lerp(Unsafe.Add(ref source, _x0[x]), Unsafe.Add(ref source, _x1[x]), _wx[x]);
            }

            return;
        }

        if (_channels == 1)
        {
            // Luma is linear, so the blend of two pixels' luma is the luma of their blend.
            for (var x = 0; x < w; x++)
            {
                r[x] = Lerp(Luma(ref source, _x0[x], map), Luma(ref source, _x1[x], map), _wx[x]);
            }

            return;
        }

        var g = _rows.AsSpan(((slot * 3) + 1) * w, w);
        var b = _rows.AsSpan(((slot * 3) + 2) * w, w);
        for (var x = 0; x < w; x++)
        {
            var a = _x0[x];
            var z = _x1[x];
            var t = _wx[x];
            r[x] = Lerp(Unsafe.Add(ref source, a + map.C0), Unsafe.Add(ref source, z + map.C0), t);
            g[x] = Lerp(Unsafe.Add(ref source, a + map.C1), Unsafe.Add(ref source, z + map.C1), t);
            b[x] = Lerp(Unsafe.Add(ref source, a + map.C2), Unsafe.Add(ref source, z + map.C2), t);
        }
    }

    /// <summary>Vertical pass: (top + (bottom - top) * t) * gain + offset, a vector at a time.</summary>
    private static void Blend(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, float t, float gain, float offset, Span<float> destination)
    {
        var x = 0;
        if (Vector.IsHardwareAccelerated && destination.Length >= Vector<float>.Count)
        {
            var vt = new Vector<float>(t);
            var vg = new Vector<float>(gain);
            var vo = new Vector<float>(offset);
            var lastBlock = destination.Length - Vector<float>.Count;
            for (; x <= lastBlock; x += Vector<float>.Count)
            {
                var a = new Vector<float>(top[x..]);
                var b = new Vector<float>(bottom[x..]);
                (((a + ((b - a) * vt)) * vg) + vo).CopyTo(destination[x..]);
            }
        }

        for (; x < destination.Length; x++)
        {
            destination[x] = ((top[x] + ((bottom[x] - top[x]) * t)) * gain) + offset;
        }
    }

    private static void Interleave(ReadOnlySpan<float> channel, Span<float> destination, int step)
    {
        for (var x = 0; x < channel.Length; x++)
        {
            destination[x * step] = channel[x];
        }
    }

    /// <summary>Values already carry +0.5, so truncation rounds; they lie within 0..255.5 by construction.</summary>
    private static void ToBytes(ReadOnlySpan<float> values, Span<byte> destination, int step)
    {
        for (var x = 0; x < values.Length; x++)
        {
            destination[x * step] = (byte)Math.Min(values[x], 255f);
        }
    }

    private static float Lerp(byte a, byte b, float t) => a + ((b - a) * t);

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);

    /// <summary>One 16-bit sample, native byte order, on the 0-255 scale <see cref="ImagePreprocessing.Gray16"/> chose.</summary>
    private float Gray16Value(ref byte source, int offset)
    {
        var v = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref source, offset));
        return Math.Clamp((v - _low16) * _scale16, 0f, 255f);
    }

    /// <summary>BT.601 luma, the weights OpenCV's and PIL's RGB-to-grey conversions use.</summary>
    private static float Luma(ref byte source, int offset, ChannelOffsets rgb) =>
        (0.299f * Unsafe.Add(ref source, offset + rgb.C0))
        + (0.587f * Unsafe.Add(ref source, offset + rgb.C1))
        + (0.114f * Unsafe.Add(ref source, offset + rgb.C2));

    /// <summary>The linear map of this frame's 16-bit values onto 0-255.</summary>
    private void MapGray16(Frame frame)
    {
        var (low, high) = _options.Gray16 switch
        {
            Gray16Conversion.MinMax => Range(MemoryMarshal.Cast<byte, ushort>(frame.Pixels)),
            Gray16Conversion.Window => (_options.Gray16Low, _options.Gray16High),
            _ => (0, ushort.MaxValue),
        };
        _low16 = low;
        _scale16 = high > low ? 255f / (high - low) : 0f;
    }

    private static (int Min, int Max) Range(ReadOnlySpan<ushort> values)
    {
        int min = ushort.MaxValue, max = 0, i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<ushort>.Count)
        {
            var lowest = new Vector<ushort>(ushort.MaxValue);
            var highest = Vector<ushort>.Zero;
            for (; i <= values.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                var v = new Vector<ushort>(values[i..]);
                lowest = Vector.Min(lowest, v);
                highest = Vector.Max(highest, v);
            }

            for (var k = 0; k < Vector<ushort>.Count; k++)
            {
                min = Math.Min(min, lowest[k]);
                max = Math.Max(max, highest[k]);
            }
        }

        for (; i < values.Length; i++)
        {
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }

        return (min, max);
    }

    private void FillPadding<T>(Span<T> destination, int channel, bool channelsFirst, T value)
        where T : unmanaged
    {
        var p = Placement;
        if (p.Width == _targetWidth && p.Height == _targetHeight)
        {
            return;
        }

        var plane = _targetWidth * _targetHeight;
        for (var y = 0; y < _targetHeight; y++)
        {
            var inside = y >= p.OffsetY && y < p.OffsetY + p.Height;
            var row = y * _targetWidth;
            if (channelsFirst)
            {
                var line = destination.Slice((channel * plane) + row, _targetWidth);
                if (!inside)
                {
                    line.Fill(value);
                    continue;
                }

                line[..p.OffsetX].Fill(value);
                line[(p.OffsetX + p.Width)..].Fill(value);
            }
            else
            {
                for (var x = 0; x < _targetWidth; x++)
                {
                    if (!inside || x < p.OffsetX || x >= p.OffsetX + p.Width)
                    {
                        destination[((row + x) * _channels) + channel] = value;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Byte offsets, within a source pixel, of the model's channels 0, 1, 2; for a grey model, of red,
    /// green and blue whatever the channel order, since luma weighs them.
    /// </summary>
    private ChannelOffsets ChannelMap(PixelFormat format)
    {
        var rgbOrder = _channels == 1 || _options.ChannelOrder == ChannelOrder.Rgb;
        return format switch
        {
            PixelFormat.Rgb24 or PixelFormat.Rgba32 => rgbOrder ? new(0, 1, 2) : new(2, 1, 0),
            PixelFormat.Bgr24 => rgbOrder ? new(2, 1, 0) : new(0, 1, 2),
            PixelFormat.Gray8 or PixelFormat.Gray16 => new(0, 0, 0),
            _ => throw new NotSupportedException($"Frames in {format} cannot feed a model; convert them to Rgb24 first."),
        };
    }

    private void Prepare(Frame frame, int targetWidth, int targetHeight, int channels)
    {
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "An image tensor has 1 (grey) or 3 (colour) channels.");
        }

        _channels = channels;
        _planes = channels == 1 || frame.Format is PixelFormat.Gray8 or PixelFormat.Gray16 ? 1 : 3;
        if (frame.Format == PixelFormat.Gray16)
        {
            MapGray16(frame);
        }

        var bpp = Frame.BytesPerPixel(frame.Format);
        if (frame.Width == _sourceWidth && frame.Height == _sourceHeight && targetWidth == _targetWidth && targetHeight == _targetHeight && bpp == _bytesPerPixel)
        {
            return;
        }

        var placement = _options.Resize == ResizeMode.Letterbox
            ? Letterbox.Fit(frame.Width, frame.Height, targetWidth, targetHeight)
            : new Letterbox(frame.Width, frame.Height, targetWidth, targetHeight, 0, 0);
        (_x0, _x1, _wx) = Axis(frame.Width, placement.Width, bpp);
        (_y0, _y1, _wy) = Axis(frame.Height, placement.Height, 1);
        _rows = new float[7 * placement.Width];
        Placement = placement;
        (_sourceWidth, _sourceHeight, _targetWidth, _targetHeight, _bytesPerPixel) = (frame.Width, frame.Height, targetWidth, targetHeight, bpp);
    }

    /// <summary>Half-pixel-centre sampling, the convention of OpenCV and PIL's bilinear resize; offsets scaled by <paramref name="step"/>.</summary>
    private static (int[] Lower, int[] Upper, float[] Weight) Axis(int source, int target, int step)
    {
        var lower = new int[target];
        var upper = new int[target];
        var weight = new float[target];
        var ratio = (float)source / target;
        for (var i = 0; i < target; i++)
        {
            var position = Math.Max(((i + 0.5f) * ratio) - 0.5f, 0f);
            var l = Math.Min((int)position, source - 1);
            lower[i] = l * step;
            upper[i] = Math.Min(l + 1, source - 1) * step;
            weight[i] = position - l;
        }

        return (lower, upper, weight);
    }

    private readonly record struct ChannelOffsets(int C0, int C1, int C2);
}
