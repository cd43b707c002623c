using System.Globalization;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// A real plugin process runs a generated detector (red-box-detector.onnx, 64x64 input, which boxes
/// the red pixels it sees) on a 640x480 image with a red rectangle at (320, 120)-(480, 360). The JPEG
/// decodes at 1/4 scale (160x120, the smallest DCT scale covering the model's input) and is then
/// letterboxed or stretched into the model; the published box must be where the rectangle is in the
/// 640x480 source, not in the 160x120 frame (80, 30)-(120, 90), where boxes landed before.
/// </summary>
public sealed class DetectionCoordinatesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-detections-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string RedBox(string extension)
    {
        var path = Path.Combine(_folder, $"red-box.{extension}");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "color=black:s=640x480", "-vf", "drawbox=x=320:y=120:w=160:h=240:color=red:t=fill", "-frames:v", "1", "-q:v", "2", "-y", path]);
        return path;
    }

    private static Tool.Result Detect(string image, string resize) =>
        Tool.Run(
            "dotnet",
            [PluginProcess.Probe, "detect", "-input", image, "-model", RepoPaths.Model("red-box-detector.onnx")],
            environment: new Dictionary<string, string?>
            {
                ["Inference__Preprocessing__Resize"] = resize,
                ["WAGGLE_PLUGIN_HOST"] = null,
                ["WAGGLE_APP_ID"] = null,
                ["PYWAGGLE_LOG_DIR"] = null,
                ["MSG"] = null,
            },
            timeout: TimeSpan.FromMinutes(2));

    private static float[] Output(Tool.Result run, string name)
    {
        var line = Assert.Single(run.StandardOutput.Split('\n'), l => l.StartsWith(name + ": ", StringComparison.Ordinal));
        return [.. line[(name.Length + 2)..].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
    }

    [Theory]
    [InlineData("Letterbox")]
    [InlineData("Stretch")]
    public void ScaledDownJpeg_BoxIsPublishedInTheSourceImagesPixels(string resize)
    {
        var run = Detect(RedBox("jpg"), resize);

        Assert.True(run.ExitCode == 0, run.ToString());
        // The frame really was scaled down: otherwise this test would not tell the coordinates apart.
        Assert.Equal([160f, 120f], Output(run, "frame.size"));
        Assert.Equal([640f, 480f], Output(run, "frame.source_size"));
        AssertBox([320, 120, 480, 360], Output(run, "detection.red"));
    }

    [Fact]
    public void FullSizePng_BoxIsPublishedInItsPixels()
    {
        var run = Detect(RedBox("png"), "Letterbox");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([640f, 480f], Output(run, "frame.size"));
        Assert.Equal([640f, 480f], Output(run, "frame.source_size"));
        AssertBox([320, 120, 480, 360], Output(run, "detection.red"));
    }

    // One model pixel is 10 source pixels: resampling may move an edge by up to one of them.
    private static void AssertBox(float[] expected, float[] box)
    {
        Assert.Equal(4, box.Length);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(expected[i] - box[i]) <= 10, $"box ({string.Join(", ", box)}) is not at ({string.Join(", ", expected)}) in the source image");
        }
    }
}
