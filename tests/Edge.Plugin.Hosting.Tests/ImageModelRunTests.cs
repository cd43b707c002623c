using System.Buffers.Binary;
using System.Globalization;
using Edge.Inference;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// Whole plugin processes (the probe's model plugins, tests/Edge.Plugin.Hosting.Probe/ModelPlugins.cs)
/// on real image files and generated models: 16-bit grey PNG and TIFF, 8-bit grey and CMYK JPEG into
/// colour and grey models, and models that cannot take frames.
/// </summary>
public sealed class ImageModelRunTests : IDisposable
{
    private const int Size = 16;

    private readonly string _folder = Directory.CreateTempSubdirectory("edge-image-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Probe => Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

    private static string Sample(string name) => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", name);

    [Theory]
    [InlineData("png")]
    [InlineData("tif")]
    public void Gray16File_FeedsAColourModel_ThroughTheConfiguredWindow(string extension)
    {
        // A 12-bit microscope camera's values, and one saturated pixel past them.
        var values = Values(seed: 1, maxExclusive: 4096);
        values[0] = 65535;
        var image = Gray16File(values, extension);

        var run = RunProbe("model", ["-input", image, "-model", RepoPaths.Model("channel-stats.onnx")], new()
        {
            ["Inference__Preprocessing__Gray16"] = "Window",
            ["Inference__Preprocessing__Gray16Low"] = "0",
            ["Inference__Preprocessing__Gray16High"] = "4095",
        });

        Assert.True(run.ExitCode == 0, run.ToString());
        var expected = values.Average(v => Math.Min((int)v, 4095) / 4095.0);
        Assert.All(Output(run, "model.mean"), mean => Assert.Equal(expected, mean, 4));
        Assert.All(Output(run, "model.max"), max => Assert.Equal(1, max, 5));
    }

    [Fact]
    public void Gray16Tiff_FeedsAGreyModel_StretchedByMinMax()
    {
        var values = Values(seed: 2, maxExclusive: 3001, minimum: 1000);
        (values[0], values[1]) = (1000, 3000);
        var image = Gray16File(values, "tif");

        var run = RunProbe("model", ["-input", image, "-model", RepoPaths.Model("grey-stats.onnx")], new() { ["Inference__Preprocessing__Gray16"] = "MinMax" });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(values.Average(v => (v - 1000) / 2000.0), Assert.Single(Output(run, "model.mean")), 4);
        Assert.Equal([0f, 1f], [.. Output(run, "model.min"), .. Output(run, "model.max")]);
    }

    [Fact]
    public void Gray16File_WithTheDefaultConversion_FeedsAColourModelItsFullRange()
    {
        var values = Values(seed: 3, maxExclusive: 65536);
        var image = Gray16File(values, "png");

        var run = RunProbe("model", ["-input", image, "-model", RepoPaths.Model("channel-stats.onnx")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(Output(run, "model.mean"), mean => Assert.Equal(values.Average(v => v / 65535.0), mean, 4));
    }

    [Fact]
    public void Gray8Png_FeedsAColourModel_InEveryChannel()
    {
        var image = Path.Combine(_folder, "grey.png");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-i", Sample("sky.jpg"), "-vf", $"scale={Size}:{Size}", "-pix_fmt", "gray", "-y", image]);
        var grey = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", image, "-f", "rawvideo", "-pix_fmt", "gray", "-"]);

        var run = RunProbe("model", ["-input", image, "-model", RepoPaths.Model("channel-stats.onnx")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(Output(run, "model.mean"), mean => Assert.Equal(grey.Average(v => v / 255.0), mean, 4));
    }

    [Fact]
    public void CmykJpeg_FeedsAColourModel_AsRgb()
    {
        var image = Path.Combine(_folder, "red-ink.jpg");
        var written = Tool.Run("/usr/bin/python3", ["-c", "import sys\nfrom PIL import Image\nImage.new('CMYK', (64, 48), (0, 255, 255, 0)).save(sys.argv[1], quality=95)", image]);
        Assert.True(written.ExitCode == 0, written.ToString());

        var run = RunProbe("model", ["-input", image, "-model", RepoPaths.Model("channel-stats.onnx")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var mean = Output(run, "model.mean");
        Assert.Equal(1, mean[0], 1);
        Assert.Equal(0, mean[1], 1);
        Assert.Equal(0, mean[2], 1);
    }

    [Fact]
    public void Gray16HighWithoutWindow_FailsAtStartNamingTheKey()
    {
        var run = RunProbe("model", ["-input", Sample("sky.jpg"), "-model", RepoPaths.Model("channel-stats.onnx")], new() { ["Inference__Preprocessing__Gray16High"] = "4095" });

        Assert.Equal(ExitCodes.StartFailed, run.ExitCode);
        Assert.Contains("Inference:Preprocessing:Gray16 is Full, but Gray16Low and Gray16High (0, 4095) are set, and they apply only to Window", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Inference__Preprocessing__Gray16 in the environment", run.StandardError, StringComparison.Ordinal);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void Gray16ConversionThatDoesNotExist_IsRefusedNamingTheKey()
    {
        var run = RunProbe("model", ["-input", Sample("sky.jpg"), "-model", RepoPaths.Model("channel-stats.onnx")], new() { ["Inference__Preprocessing__Gray16"] = "Stretchy" });

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("Inference:Preprocessing:Gray16 is 'Stretchy'", run.StandardError, StringComparison.Ordinal);
        Assert.Equal("", run.StandardOutput);
    }

    [Theory]
    [InlineData("add.onnx", "running on a frame needs a model with one image input, and it has 2: a: Float[1,4], b: Float[1,4]")]
    [InlineData("dynamic-relu.onnx", "its input x: Float[batch,3] is not an image: its rank is 2")]
    [InlineData("int32-image-stats.onnx", "its input image: Int32[1,3,16,16] is not an image: it holds Int32")]
    public void ModelThatCannotTakeFrames_InAFramePlugin_ExitsThreeAtItsFirstFrameInOneLine(string model, string why)
    {
        // A folder of three images: the run ends at the first, not with three failures.
        var run = RunProbe("model", ["-input", Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data"), "-model", RepoPaths.Model(model)]);

        Assert.Equal(ExitCodes.StartFailed, run.ExitCode);
        var line = Assert.Single(run.StandardError.Split('\n'), l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.Contains($"{model} cannot take frames: {why}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Processing ", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("Finished: 1 frame(s)", run.StandardError, StringComparison.Ordinal);
        Assert.Equal("", run.StandardOutput);
    }

    [Fact]
    public void ModelThatIsNoImageModel_InAFramePluginThatBuildsItsTensors_Runs()
    {
        var run = RunProbe("model-tensors", ["-input", Sample("red-apple.jpg"), "-model", RepoPaths.Model("add.onnx")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([321f, 241f, 1f, 1f], Output(run, "model.sum"));
    }

    [Fact]
    public void ModelThatIsNoImageModel_InATimerPlugin_Runs()
    {
        var run = RunProbe("model-timer", ["-interval", "0.01", "-model", RepoPaths.Model("add.onnx")], new() { ["Plugin__MaxTicks"] = "2" });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.StandardOutput.Split('\n').Count(l => l == "model.sum: 11.000000,22.000000,33.000000,44.000000"));
    }

    private static Tool.Result RunProbe(string mode, string[] args, Dictionary<string, string?>? environment = null)
    {
        environment ??= [];
        foreach (var variable in new[] { "WAGGLE_PLUGIN_HOST", "WAGGLE_APP_ID", "PYWAGGLE_LOG_DIR", "MSG" })
        {
            environment[variable] = null;
        }

        return Tool.Run("dotnet", [Probe, mode, .. args], environment: environment, timeout: TimeSpan.FromMinutes(2));
    }

    /// <summary>The values of the one line the probe printed for <paramref name="name"/>.</summary>
    private static float[] Output(Tool.Result run, string name)
    {
        var line = Assert.Single(run.StandardOutput.Split('\n'), l => l.StartsWith(name + ": ", StringComparison.Ordinal));
        return [.. line[(name.Length + 2)..].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
    }

    private static ushort[] Values(int seed, int maxExclusive, int minimum = 0)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, Size * Size).Select(_ => (ushort)random.Next(minimum, maxExclusive))];
    }

    /// <summary>A 16-bit grey PNG or TIFF of the values, written by ffmpeg.</summary>
    private string Gray16File(ushort[] values, string extension)
    {
        var raw = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(i * 2), values[i]);
        }

        var rawPath = Path.Combine(_folder, $"{Guid.NewGuid():N}.raw");
        var path = Path.ChangeExtension(rawPath, extension);
        File.WriteAllBytes(rawPath, raw);
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "rawvideo", "-pix_fmt", "gray16le", "-s", $"{Size}x{Size}", "-i", rawPath, "-pix_fmt", extension == "png" ? "gray16be" : "gray16le", "-y", path]);
        return path;
    }
}
