using System.Runtime.InteropServices;
using Edge.Plugin;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Inference.Tests;

/// <summary>
/// Frames of every pixel format into colour and grey models, run through ONNX Runtime on models that
/// return the per-channel mean, minimum and maximum of what they were given (build/models), so each
/// test reads back exactly what preprocessing wrote.
/// </summary>
public sealed class FrameFormatTests
{
    private const int Size = 16;

    [Fact]
    public void Gray16_Full_FillsEveryChannelOfAColourModel_AsValueOver65535()
    {
        var values = RandomValues(Size * Size, 0, 65536, seed: 1);
        using var model = Load("channel-stats.onnx");
        using var frame = Gray16Frame(Size, Size, values);

        var result = model.Run(frame);

        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(values.Average(v => v / 65535.0), result["mean"][c], 5);
            Assert.Equal(values.Min() / 65535f, result["min"][c], 5);
            Assert.Equal(values.Max() / 65535f, result["max"][c], 5);
        }
    }

    [Fact]
    public void Gray16_ToAFloatModel_KeepsLevelsBelowOne8BitStep()
    {
        // 0 and 1 out of 65535: one 8-bit step is 257 of these, so a detour through 8 bits would lose it.
        var values = Enumerable.Range(0, Size * Size).Select(i => (ushort)(i % 2)).ToArray();
        using var model = Load("grey-stats.onnx");
        using var frame = Gray16Frame(Size, Size, values);

        var result = model.Run(frame);

        Assert.Equal(0f, result["min"][0]);
        Assert.Equal(1f / 65535f, result["max"][0], 9);
    }

    [Fact]
    public void Gray16_MinMax_StretchesEachFrameToItsOwnRange()
    {
        using var model = Load("grey-stats.onnx", p => p.Gray16 = Gray16Conversion.MinMax);
        var dim = RandomValues(Size * Size, 1000, 3001, seed: 2);
        (dim[0], dim[1]) = (1000, 3000);
        var faint = RandomValues(Size * Size, 10, 21, seed: 3);
        (faint[0], faint[1]) = (10, 20);

        foreach (var (values, low, high) in new[] { (dim, 1000.0, 3000.0), (faint, 10.0, 20.0) })
        {
            using var frame = Gray16Frame(Size, Size, values);
            var result = model.Run(frame);

            Assert.Equal(0f, result["min"][0], 6);
            Assert.Equal(1f, result["max"][0], 6);
            Assert.Equal(values.Average(v => (v - low) / (high - low)), result["mean"][0], 5);
        }
    }

    [Fact]
    public void Gray16_MinMax_OfAFlatFrame_IsZero()
    {
        using var model = Load("grey-stats.onnx", p => p.Gray16 = Gray16Conversion.MinMax);
        using var frame = Gray16Frame(Size, Size, Enumerable.Repeat((ushort)777, Size * Size).ToArray());

        var result = model.Run(frame);

        Assert.Equal((0f, 0f), (result["min"][0], result["max"][0]));
    }

    [Fact]
    public void Gray16_Window_MapsLowToZeroHighToOne_AndClipsOutside()
    {
        // A 12-bit sensor's range, with a hot pixel past it and values below the window's floor.
        var values = RandomValues(Size * Size, 0, 4096, seed: 4);
        (values[0], values[1], values[2]) = (65535, 5000, 50);
        using var model = Load("grey-stats.onnx", p => (p.Gray16, p.Gray16Low, p.Gray16High) = (Gray16Conversion.Window, 100, 4095));
        using var frame = Gray16Frame(Size, Size, values);

        var result = model.Run(frame);

        Assert.Equal(0f, result["min"][0], 6);
        Assert.Equal(1f, result["max"][0], 6);
        Assert.Equal(values.Average(v => Math.Clamp((v - 100) / 3995.0, 0, 1)), result["mean"][0], 5);
    }

    [Fact]
    public void Gray16_ToAUint8GreyNhwcModel_RoundsTheWindowedValueTo8Bits()
    {
        var values = RandomValues(Size * Size, 0, 4096, seed: 5);
        using var model = Load("grey-stats-uint8-nhwc.onnx", p => (p.Gray16, p.Gray16Low, p.Gray16High) = (Gray16Conversion.Window, 0, 4095));
        using var frame = Gray16Frame(Size, Size, values);

        var result = model.Run(frame);

        var bytes = values.Select(v => Math.Floor((v * 255.0 / 4095) + 0.5)).ToArray();
        Assert.Equal(bytes.Min(), result["min"][0]);
        Assert.Equal(bytes.Max(), result["max"][0]);
        Assert.Equal(bytes.Average(), result["mean"][0], 3);
    }

    [Fact]
    public void Gray8_FeedsAColourModel_TheSameValueInEveryChannel()
    {
        using var model = Load("channel-stats.onnx");
        using var frame = Frame.Rent(Size, Size, PixelFormat.Gray8, Clock.NowNs(), "test");
        new Random(6).NextBytes(frame.Pixels);
        var pixels = frame.Pixels.ToArray();

        var result = model.Run(frame);

        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(pixels.Average(v => v / 255.0), result["mean"][c], 5);
            Assert.Equal(pixels.Min() / 255f, result["min"][c], 6);
            Assert.Equal(pixels.Max() / 255f, result["max"][c], 6);
        }
    }

    [Theory]
    [InlineData(PixelFormat.Rgb24)]
    [InlineData(PixelFormat.Bgr24)]
    [InlineData(PixelFormat.Rgba32)]
    public void ColourFrame_FeedsAGreyModel_AsItsLuma(PixelFormat format)
    {
        using var model = Load("grey-stats.onnx", p => p.ChannelOrder = ChannelOrder.Bgr);
        using var frame = SolidFrame(Size, Size, format, r: 200, g: 100, b: 50);

        var result = model.Run(frame);

        // BT.601, whatever the frame's byte order or the model's channel order.
        Assert.Equal(((0.299 * 200) + (0.587 * 100) + (0.114 * 50)) / 255, result["mean"][0], 5);
    }

    [Fact]
    public void GreyModel_TakesOneMeanAndStd()
    {
        using var model = Load("grey-stats.onnx", p => (p.Mean, p.Std) = ([0.5f], [0.25f]));
        using var frame = SolidFrame(Size, Size, PixelFormat.Gray8, 51, 51, 51);

        var result = model.Run(frame);

        Assert.Equal((0.2f - 0.5f) / 0.25f, result["mean"][0], 5);
    }

    [Fact]
    public void ColourModel_OneMeanAndStd_ApplyToEveryChannel()
    {
        using var model = Load("channel-stats.onnx", p => (p.Mean, p.Std) = ([0.5f], [0.25f]));
        using var frame = SolidFrame(Size, Size, PixelFormat.Rgb24, 51, 102, 153);

        var result = model.Run(frame);

        Assert.Equal(-1.2f, result["mean"][0], 4);
        Assert.Equal(-0.4f, result["mean"][1], 4);
        Assert.Equal(0.4f, result["mean"][2], 4);
    }

    [Fact]
    public void GreyModel_WithThreeMeanValues_IsRefusedNamingTheSetting()
    {
        using var model = Load("grey-stats.onnx", p => p.Mean = [0.4f, 0.5f, 0.6f]);
        using var frame = SolidFrame(Size, Size, PixelFormat.Gray8, 1, 1, 1);

        var error = Assert.Throws<InferenceException>(() => model.Run(frame));

        Assert.Contains("grey", error.Message, StringComparison.Ordinal);
        Assert.Contains("Inference:Preprocessing:Mean", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, 1, ResizeMode.Letterbox, 37, 23, 20, 20)]
    [InlineData(false, 1, ResizeMode.Stretch, 19, 41, 32, 24)]
    [InlineData(true, 3, ResizeMode.Stretch, 50, 40, 17, 33)]
    [InlineData(false, 3, ResizeMode.Letterbox, 20, 60, 48, 32)]
    public void Gray16_Resized_MatchesAPlainPerPixelBilinearOfTheWindowedValues(bool nchw, int channels, ResizeMode resize, int sw, int sh, int tw, int th)
    {
        var values = RandomValues(sw * sh, 0, 65536, seed: sw * sh);
        using var frame = Gray16Frame(sw, sh, values);
        var options = new ImagePreprocessing { Resize = resize, Gray16 = Gray16Conversion.Window, Gray16Low = 10000, Gray16High = 50000, Mean = [0.5f], Std = [0.2f] };
        var writer = new ImageTensorWriter(options);
        var actual = new float[channels * tw * th];

        writer.Write(frame, actual, tw, th, nchw, channels);

        float Pixel(int x, int y) => Math.Clamp((values[(y * sw) + x] - 10000) * 255f / 40000, 0, 255);
        var expected = Reference(Pixel, sw, sh, tw, th, channels, nchw, writer.Placement, options);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) < 1e-4f, $"element {i}: {actual[i]} != {expected[i]}");
        }
    }

    [Theory]
    [InlineData(true, PixelFormat.Rgb24)]
    [InlineData(false, PixelFormat.Bgr24)]
    public void ColourToGrey_Resized_MatchesAPlainPerPixelBilinearOfTheLuma(bool nchw, PixelFormat format)
    {
        using var frame = Frame.Rent(45, 31, format, Clock.NowNs(), "test");
        new Random(7).NextBytes(frame.Pixels);
        var pixels = frame.Pixels.ToArray();
        var options = new ImagePreprocessing { Resize = ResizeMode.Letterbox };
        var writer = new ImageTensorWriter(options);
        var actual = new float[20 * 20];

        writer.Write(frame, actual, 20, 20, nchw, channels: 1);

        var (r, b) = format == PixelFormat.Rgb24 ? (0, 2) : (2, 0);
        float Pixel(int x, int y)
        {
            var at = ((y * 45) + x) * 3;
            return (0.299f * pixels[at + r]) + (0.587f * pixels[at + 1]) + (0.114f * pixels[at + b]);
        }

        var expected = Reference(Pixel, 45, 31, 20, 20, 1, nchw, writer.Placement, options);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) < 1e-4f, $"element {i}: {actual[i]} != {expected[i]}");
        }
    }

    [Fact]
    public void Gray16_SteadyStream_AllocatesNothingPerFrame()
    {
        using var frame = Gray16Frame(640, 480, RandomValues(640 * 480, 0, 65536, seed: 8));
        var writer = new ImageTensorWriter(new ImagePreprocessing { Gray16 = Gray16Conversion.MinMax, Resize = ResizeMode.Letterbox });
        var tensor = new float[3 * 224 * 224];
        writer.Write(frame, tensor, 224, 224, channelsFirst: true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            writer.Write(frame, tensor, 224, 224, channelsFirst: true);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("add.onnx", "one image input", "a: Float[1,4]")]
    [InlineData("dynamic-relu.onnx", "rank is 2", "x: Float[batch,3]")]
    [InlineData("four-channel-stats.onnx", "has neither 1 (grey) nor 3 (colour) channels, after the batch as NCHW has them (4) or last as NHWC has them (16)", "image: Float[1,4,16,16]")]
    [InlineData("int32-image-stats.onnx", "holds Int32", "image: Int32[1,3,16,16]")]
    public void ModelThatIsNoImageModel_RefusesFramesNamingTheInputAndWhy(string name, string why, string input)
    {
        using var model = OnnxModel.Load(RepoPaths.Model(name));
        using var frame = SolidFrame(Size, Size, PixelFormat.Rgb24, 1, 2, 3);

        var first = Assert.Throws<InferenceException>(() => model.Run(frame));
        var second = Assert.Throws<InferenceException>(() => model.Run(frame));

        Assert.Contains($"{name} cannot take frames", first.Message, StringComparison.Ordinal);
        Assert.Contains(why, first.Message, StringComparison.Ordinal);
        Assert.Contains(input, first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
    }

    [Theory]
    [InlineData(Gray16Conversion.Window, 100, 100, "Preprocessing:Gray16Low and Gray16High must satisfy 0 <= Gray16Low < Gray16High <= 65535")]
    [InlineData(Gray16Conversion.Window, 0, 70000, "got 0 and 70000")]
    [InlineData(Gray16Conversion.Window, -1, 4095, "got -1 and 4095")]
    [InlineData(Gray16Conversion.MinMax, 0, 4095, "Preprocessing:Gray16 is MinMax, but Gray16Low and Gray16High (0, 4095) are set, and they apply only to Window")]
    [InlineData((Gray16Conversion)7, 0, 0, "Preprocessing:Gray16 must be Full, MinMax or Window; got 7")]
    public void Gray16Settings_ThatCannotWork_AreRefused(Gray16Conversion conversion, int low, int high, string expected)
    {
        var options = new OnnxModelOptions { Preprocessing = { Gray16 = conversion, Gray16Low = low, Gray16High = high } };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gray16Window_FromConfiguration_IsBoundAndABadOneFailsAtStartNamingTheKey()
    {
        var good = Options(new() { ["Inference:Preprocessing:Gray16"] = "Window", ["Inference:Preprocessing:Gray16Low"] = "0", ["Inference:Preprocessing:Gray16High"] = "4095" });
        var bad = Options(new() { ["Inference:Preprocessing:Gray16Low"] = "100", ["Inference:Preprocessing:Gray16High"] = "4095" });

        using (good)
        {
            var preprocessing = good.GetRequiredService<IOptions<InferenceOptions>>().Value.Preprocessing;
            Assert.Equal((Gray16Conversion.Window, 0, 4095), (preprocessing.Gray16, preprocessing.Gray16Low, preprocessing.Gray16High));
        }

        using (bad)
        {
            var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<InferenceOptions>>().Value);
            Assert.Contains(error.Failures, f => f.StartsWith("Inference:Preprocessing:Gray16 is Full, but Gray16Low and Gray16High (100, 4095) are set", StringComparison.Ordinal));
        }
    }

    private static ServiceProvider Options(Dictionary<string, string?> settings)
    {
        settings["Inference:Model"] = RepoPaths.Model("channel-stats.onnx");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddOnnxInference().BuildServiceProvider();
    }

    private static OnnxModel Load(string name, Action<ImagePreprocessing>? configure = null)
    {
        var options = new OnnxModelOptions { IntraOpThreads = 1 };
        configure?.Invoke(options.Preprocessing);
        return OnnxModel.Load(RepoPaths.Model(name), options);
    }

    private static ushort[] RandomValues(int count, int min, int maxExclusive, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (ushort)random.Next(min, maxExclusive))];
    }

    private static Frame Gray16Frame(int width, int height, ushort[] values)
    {
        var frame = Frame.Rent(width, height, PixelFormat.Gray16, Clock.NowNs(), "test");
        values.CopyTo(MemoryMarshal.Cast<byte, ushort>(frame.Pixels));
        return frame;
    }

    private static Frame SolidFrame(int width, int height, PixelFormat format, byte r, byte g, byte b)
    {
        var frame = Frame.Rent(width, height, format, Clock.NowNs(), "test");
        var pixels = frame.Pixels;
        var bpp = Frame.BytesPerPixel(format);
        byte[] pixel = format switch
        {
            PixelFormat.Bgr24 => [b, g, r],
            PixelFormat.Rgba32 => [r, g, b, 255],
            PixelFormat.Gray8 => [r],
            _ => [r, g, b],
        };
        for (var i = 0; i < pixels.Length; i += bpp)
        {
            pixel.CopyTo(pixels[i..]);
        }

        return frame;
    }

    /// <summary>The per-pixel formula, written independently of the writer's two passes: bilinear over <paramref name="pixel"/>, padded, normalised.</summary>
    private static float[] Reference(Func<int, int, float> pixel, int sw, int sh, int tw, int th, int channels, bool nchw, Letterbox placement, ImagePreprocessing options)
    {
        var result = new float[channels * tw * th];
        for (var y = 0; y < th; y++)
        {
            for (var x = 0; x < tw; x++)
            {
                var px = x - placement.OffsetX;
                var py = y - placement.OffsetY;
                float v;
                if (px < 0 || py < 0 || px >= placement.Width || py >= placement.Height)
                {
                    v = options.PadValue;
                }
                else
                {
                    var (x0, x1, wx) = Sample(px, sw, placement.Width);
                    var (y0, y1, wy) = Sample(py, sh, placement.Height);
                    var top = pixel(x0, y0) + ((pixel(x1, y0) - pixel(x0, y0)) * wx);
                    var bottom = pixel(x0, y1) + ((pixel(x1, y1) - pixel(x0, y1)) * wx);
                    v = top + ((bottom - top) * wy);
                }

                for (var c = 0; c < channels; c++)
                {
                    var mean = options.Mean.Length == 0 ? 0f : options.Mean[options.Mean.Length == 1 ? 0 : c];
                    var std = options.Std.Length == 0 ? 1f : options.Std[options.Std.Length == 1 ? 0 : c];
                    result[nchw ? (c * tw * th) + (y * tw) + x : (((y * tw) + x) * channels) + c] = ((v * options.Scale) - mean) / std;
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
