using Edge.Plugin;

namespace Edge.Inference;

/// <summary>
/// Writes a frame into an image tensor in one pass: bilinear resize, channel order, layout and
/// normalisation together, with no intermediate image. Sampling tables are kept per size pair, so
/// a steady stream of same-sized frames allocates nothing.
/// </summary>
internal sealed class ImageTensorWriter
{
    private readonly ImagePreprocessing _options;
    private readonly float[] _gain = new float[3];
    private readonly float[] _offset = new float[3];
    private int _sourceWidth = -1;
    private int _sourceHeight = -1;
    private int _targetWidth;
    private int _targetHeight;
    private int[] _x0 = [];
    private int[] _x1 = [];
    private float[] _wx = [];
    private int[] _y0 = [];
    private int[] _y1 = [];
    private float[] _wy = [];

    public ImageTensorWriter(ImagePreprocessing options)
    {
        _options = options;
        for (var c = 0; c < 3; c++)
        {
            // (v * scale - mean) / std  ==  v * gain + offset
            _gain[c] = options.Scale / options.Std[c];
            _offset[c] = -options.Mean[c] / options.Std[c];
        }
    }

    public void Write(Frame frame, Span<float> destination, int width, int height, bool channelsFirst) =>
        WriteCore(frame, destination, width, height, channelsFirst);

    public void Write(Frame frame, Span<byte> destination, int width, int height, bool channelsFirst)
    {
        // uint8 models take raw 0-255 values; scale, mean and std do not apply.
        PrepareTables(frame.Width, frame.Height, width, height);
        var channels = ChannelMap(frame.Format);
        var plane = width * height;
        var pixels = frame.Pixels;
        var stride = frame.Stride;
        var bpp = Frame.BytesPerPixel(frame.Format);
        for (var y = 0; y < height; y++)
        {
            var r0 = _y0[y] * stride;
            var r1 = _y1[y] * stride;
            var wy = _wy[y];
            for (var x = 0; x < width; x++)
            {
                var a = _x0[x] * bpp;
                var b = _x1[x] * bpp;
                var wx = _wx[x];
                for (var c = 0; c < 3; c++)
                {
                    var ch = channels[c];
                    var v = Lerp(Lerp(pixels[r0 + a + ch], pixels[r0 + b + ch], wx), Lerp(pixels[r1 + a + ch], pixels[r1 + b + ch], wx), wy);
                    var index = channelsFirst ? (c * plane) + (y * width) + x : (((y * width) + x) * 3) + c;
                    destination[index] = (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
                }
            }
        }
    }

    private void WriteCore(Frame frame, Span<float> destination, int width, int height, bool channelsFirst)
    {
        PrepareTables(frame.Width, frame.Height, width, height);
        var channels = ChannelMap(frame.Format);
        var plane = width * height;
        var pixels = frame.Pixels;
        var stride = frame.Stride;
        var bpp = Frame.BytesPerPixel(frame.Format);
        var g0 = _gain[0];
        var g1 = _gain[1];
        var g2 = _gain[2];
        var o0 = _offset[0];
        var o1 = _offset[1];
        var o2 = _offset[2];
        var c0 = channels[0];
        var c1 = channels[1];
        var c2 = channels[2];
        for (var y = 0; y < height; y++)
        {
            var r0 = _y0[y] * stride;
            var r1 = _y1[y] * stride;
            var wy = _wy[y];
            var rowOffset = y * width;
            for (var x = 0; x < width; x++)
            {
                var a0 = r0 + (_x0[x] * bpp);
                var b0 = r0 + (_x1[x] * bpp);
                var a1 = r1 + (_x0[x] * bpp);
                var b1 = r1 + (_x1[x] * bpp);
                var wx = _wx[x];
                var v0 = Lerp(Lerp(pixels[a0 + c0], pixels[b0 + c0], wx), Lerp(pixels[a1 + c0], pixels[b1 + c0], wx), wy);
                var v1 = Lerp(Lerp(pixels[a0 + c1], pixels[b0 + c1], wx), Lerp(pixels[a1 + c1], pixels[b1 + c1], wx), wy);
                var v2 = Lerp(Lerp(pixels[a0 + c2], pixels[b0 + c2], wx), Lerp(pixels[a1 + c2], pixels[b1 + c2], wx), wy);
                if (channelsFirst)
                {
                    var i = rowOffset + x;
                    destination[i] = (v0 * g0) + o0;
                    destination[plane + i] = (v1 * g1) + o1;
                    destination[(2 * plane) + i] = (v2 * g2) + o2;
                }
                else
                {
                    var i = (rowOffset + x) * 3;
                    destination[i] = (v0 * g0) + o0;
                    destination[i + 1] = (v1 * g1) + o1;
                    destination[i + 2] = (v2 * g2) + o2;
                }
            }
        }
    }

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);

    /// <summary>Byte offsets, within a source pixel, of the model's channels 0, 1, 2.</summary>
    private int[] ChannelMap(PixelFormat format)
    {
        var rgbOrder = _options.ChannelOrder == ChannelOrder.Rgb;
        return format switch
        {
            PixelFormat.Rgb24 or PixelFormat.Rgba32 => rgbOrder ? RgbFromRgb : BgrFromRgb,
            PixelFormat.Bgr24 => rgbOrder ? BgrFromRgb : RgbFromRgb,
            PixelFormat.Gray8 => GreyToThree,
            _ => throw new NotSupportedException($"Frames in {format} cannot feed an RGB model; convert them to Rgb24 first."),
        };
    }

    private static readonly int[] RgbFromRgb = [0, 1, 2];
    private static readonly int[] BgrFromRgb = [2, 1, 0];
    private static readonly int[] GreyToThree = [0, 0, 0];

    private void PrepareTables(int sourceWidth, int sourceHeight, int targetWidth, int targetHeight)
    {
        if (sourceWidth == _sourceWidth && sourceHeight == _sourceHeight && targetWidth == _targetWidth && targetHeight == _targetHeight)
        {
            return;
        }

        (_x0, _x1, _wx) = Axis(sourceWidth, targetWidth);
        (_y0, _y1, _wy) = Axis(sourceHeight, targetHeight);
        (_sourceWidth, _sourceHeight, _targetWidth, _targetHeight) = (sourceWidth, sourceHeight, targetWidth, targetHeight);
    }

    /// <summary>Half-pixel-centre sampling, the convention of OpenCV and PIL's bilinear resize.</summary>
    private static (int[] Lower, int[] Upper, float[] Weight) Axis(int source, int target)
    {
        var lower = new int[target];
        var upper = new int[target];
        var weight = new float[target];
        var ratio = (float)source / target;
        for (var i = 0; i < target; i++)
        {
            var position = Math.Max(((i + 0.5f) * ratio) - 0.5f, 0f);
            var l = Math.Min((int)position, source - 1);
            lower[i] = l;
            upper[i] = Math.Min(l + 1, source - 1);
            weight[i] = position - l;
        }

        return (lower, upper, weight);
    }
}
