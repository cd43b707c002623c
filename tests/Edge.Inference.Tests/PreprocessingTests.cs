using Edge.Plugin;

namespace Edge.Inference.Tests;

public sealed class PreprocessingTests
{
    [Fact]
    public void LetterboxFit_KeepsAspectAndCentres()
    {
        var fit = Letterbox.Fit(640, 480, 320, 320);

        Assert.Equal(new Letterbox(640, 480, 320, 240, 0, 40), fit);
        Assert.Equal(2f, fit.ScaleX);
        var box = fit.ToSource(new BoundingBox(10, 50, 110, 90));
        Assert.Equal(new BoundingBox(20, 20, 220, 100), box);
    }

    [Fact]
    public void Letterbox_PadsWithThePadValueAndFillsTheMiddle()
    {
        using var frame = ModelTests.SolidFrame(64, 32, 255, 0, 51);
        var options = new ImagePreprocessing { Resize = ResizeMode.Letterbox, PadValue = 114 };
        var writer = new ImageTensorWriter(options);
        var tensor = new float[3 * 16 * 16];

        writer.Write(frame, tensor, 16, 16, channelsFirst: true);

        Assert.Equal(new Letterbox(64, 32, 16, 8, 0, 4), writer.Placement);
        for (var y = 0; y < 16; y++)
        {
            var inside = y is >= 4 and < 12;
            Assert.Equal(inside ? 1f : 114f / 255f, tensor[(y * 16) + 5], 5);
            Assert.Equal(inside ? 0f : 114f / 255f, tensor[256 + (y * 16) + 5], 5);
            Assert.Equal(inside ? 0.2f : 114f / 255f, tensor[512 + (y * 16) + 5], 5);
        }
    }

    [Theory]
    [InlineData(true, ChannelOrder.Rgb, ResizeMode.Stretch, 37, 29, 24, 24)]
    [InlineData(false, ChannelOrder.Bgr, ResizeMode.Stretch, 50, 40, 17, 33)]
    [InlineData(true, ChannelOrder.Bgr, ResizeMode.Letterbox, 80, 30, 40, 40)]
    [InlineData(false, ChannelOrder.Rgb, ResizeMode.Letterbox, 20, 60, 48, 32)]
    [InlineData(true, ChannelOrder.Rgb, ResizeMode.Stretch, 10, 10, 41, 23)]
    public void FloatOutput_MatchesAPlainPerPixelBilinear(bool nchw, ChannelOrder order, ResizeMode resize, int sw, int sh, int tw, int th)
    {
        using var frame = RandomFrame(sw, sh, PixelFormat.Rgb24, seed: sw + sh);
        var options = new ImagePreprocessing { ChannelOrder = order, Resize = resize, Mean = [0.485f, 0.456f, 0.406f], Std = [0.229f, 0.224f, 0.225f] };
        var writer = new ImageTensorWriter(options);
        var actual = new float[3 * tw * th];

        writer.Write(frame, actual, tw, th, nchw);

        var expected = Reference(frame, options, tw, th, nchw, writer.Placement, asBytes: false);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) < 1e-4f, $"element {i}: {actual[i]} != {expected[i]}");
        }
    }

    [Theory]
    [InlineData(true, PixelFormat.Bgr24)]
    [InlineData(false, PixelFormat.Rgba32)]
    [InlineData(true, PixelFormat.Gray8)]
    public void ByteOutput_MatchesAPlainPerPixelBilinear(bool nchw, PixelFormat format)
    {
        using var frame = RandomFrame(45, 31, format, seed: 3);
        var options = new ImagePreprocessing { Resize = ResizeMode.Letterbox };
        var writer = new ImageTensorWriter(options);
        var actual = new byte[3 * 20 * 20];

        writer.Write(frame, actual, 20, 20, nchw);

        var expected = Reference(frame, options, 20, 20, nchw, writer.Placement, asBytes: true);
        for (var i = 0; i < expected.Length; i++)
        {
            // Both round half up, but float error in different operation orders can tip a tie either way.
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1f, $"element {i}: {actual[i]} != {expected[i]}");
        }
    }

    [Fact]
    public void SteadyStream_AllocatesNothingPerFrame()
    {
        using var frame = RandomFrame(640, 480, PixelFormat.Rgb24, seed: 1);
        var writer = new ImageTensorWriter(new ImagePreprocessing { Resize = ResizeMode.Letterbox });
        var tensor = new float[3 * 224 * 224];
        writer.Write(frame, tensor, 224, 224, channelsFirst: true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            writer.Write(frame, tensor, 224, 224, channelsFirst: true);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void UnknownResizeMode_IsRejected()
    {
        var options = new OnnxModelOptions { Preprocessing = { Resize = (ResizeMode)9 } };

        var error = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("Resize", error.Message, StringComparison.Ordinal);
    }

    internal static Frame RandomFrame(int width, int height, PixelFormat format, int seed)
    {
        var frame = Frame.Rent(width, height, format, Clock.NowNs(), "test");
        new Random(seed).NextBytes(frame.Pixels);
        return frame;
    }

    /// <summary>The obvious per-pixel formula, written independently of the writer's two passes.</summary>
    private static float[] Reference(Frame frame, ImagePreprocessing options, int tw, int th, bool nchw, Letterbox placement, bool asBytes)
    {
        var result = new float[3 * tw * th];
        var bpp = Frame.BytesPerPixel(frame.Format);
        int[] channels = frame.Format switch
        {
            PixelFormat.Gray8 => [0, 0, 0],
            PixelFormat.Bgr24 => options.ChannelOrder == ChannelOrder.Rgb ? [2, 1, 0] : [0, 1, 2],
            _ => options.ChannelOrder == ChannelOrder.Rgb ? [0, 1, 2] : [2, 1, 0],
        };
        for (var y = 0; y < th; y++)
        {
            for (var x = 0; x < tw; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    float v;
                    var px = x - placement.OffsetX;
                    var py = y - placement.OffsetY;
                    if (px < 0 || py < 0 || px >= placement.Width || py >= placement.Height)
                    {
                        v = options.PadValue;
                    }
                    else
                    {
                        var (x0, x1, wx) = Sample(px, frame.Width, placement.Width);
                        var (y0, y1, wy) = Sample(py, frame.Height, placement.Height);
                        float P(int sx, int sy) => frame.Pixels[(sy * frame.Stride) + (sx * bpp) + channels[c]];
                        var top = P(x0, y0) + ((P(x1, y0) - P(x0, y0)) * wx);
                        var bottom = P(x0, y1) + ((P(x1, y1) - P(x0, y1)) * wx);
                        v = top + ((bottom - top) * wy);
                    }

                    var value = asBytes ? MathF.Min(MathF.Floor(v + 0.5f), 255) : ((v * options.Scale) - options.EffectiveMean[c]) / options.EffectiveStd[c];
                    result[nchw ? (c * tw * th) + (y * tw) + x : (((y * tw) + x) * 3) + c] = value;
                }
            }
        }

        return result;
    }

    private static (int, int, float) Sample(int i, int source, int target)
    {
        var position = Math.Max(((i + 0.5f) * source / target) - 0.5f, 0f);
        var lower = Math.Min((int)position, source - 1);
        return (lower, Math.Min(lower + 1, source - 1), position - lower);
    }
}
