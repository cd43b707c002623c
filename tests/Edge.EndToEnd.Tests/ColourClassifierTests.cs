using System.Text.Json;
using Edge.Testing;

namespace Edge.EndToEnd.Tests;

public sealed class ColourClassifierTests
{
    private static readonly string Model = RepoPaths.Model("colour-classifier.onnx");

    [Fact]
    public void BundledImages_AreClassifiedAndPrinted()
    {
        var result = SamplePlugin.Run(["-input", Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data"), "-model", Model]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("env.colour.dominant: green", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("env.colour.dominant: red", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("env.colour.dominant: blue", lines[2], StringComparison.Ordinal);
        // Logs are on stderr, never mixed into results.
        Assert.Contains("Finished: 3 frame(s), 0 failure(s)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void RunLog_IsWrittenWhenPywaggleLogDirIsSet()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;

        var result = SamplePlugin.Run(["--input=" + SamplePlugin.Data("sky.jpg"), "--model", Model], new Dictionary<string, string?> { ["PYWAGGLE_LOG_DIR"] = dir });

        Assert.True(result.ExitCode == 0, result.ToString());
        var line = Assert.Single(File.ReadAllLines(Path.Combine(dir, "data.ndjson")));
        using var record = JsonDocument.Parse(line);
        Assert.Equal("env.colour.dominant", record.RootElement.GetProperty("name").GetString());
        Assert.Equal("blue", record.RootElement.GetProperty("value").GetString());
        Assert.Equal("sky.jpg", record.RootElement.GetProperty("meta").GetProperty("input").GetString());
    }

    [Fact]
    public void MissingModel_ExitsThreeNamingTheFile()
    {
        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", "/no/such/model.onnx"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Model file not found: /no/such/model.onnx", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void CorruptJpeg_IsReportedAndTheOtherImagesStillProcessed()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        File.Copy(SamplePlugin.Data("red-apple.jpg"), Path.Combine(dir, "a-good.jpg"));
        File.WriteAllBytes(Path.Combine(dir, "b-truncated.jpg"), File.ReadAllBytes(SamplePlugin.Data("sky.jpg"))[..4000]);
        File.Copy(SamplePlugin.Data("forest.png"), Path.Combine(dir, "c-good.png"));

        var result = SamplePlugin.Run(["-input", dir, "-model", Model]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("b-truncated.jpg: corrupt or truncated JPEG", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void MissingNativeLibrary_ExitsThreeListingThePlacesTried()
    {
        var copy = Directory.CreateTempSubdirectory("edge-nolib-").FullName;
        foreach (var file in Directory.GetFiles(SamplePlugin.OutputFolder))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], folder: copy);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("No ONNX Runtime native library is in this application. Reference a runtime package: Microsoft.ML.OnnxRuntime", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("EDGE_ONNXRUNTIME_PATH", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void OverridePath_ToAMissingFile_IsTheOnlyPlaceTried()
    {
        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], new Dictionary<string, string?> { ["EDGE_ONNXRUNTIME_PATH"] = "/opt/nothing/libonnxruntime.so.1" });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("/opt/nothing/libonnxruntime.so.1 (no such file)", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("runtimes folder", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void MeanAndStdFromConfiguration_ReplaceTheDefaultsRatherThanAppendToThem()
    {
        // Three values each, as a user writes them; the binder used to append them to the code's three.
        var environment = new Dictionary<string, string?>
        {
            ["Inference__Preprocessing__Mean__0"] = "0.5", ["Inference__Preprocessing__Mean__1"] = "0.5", ["Inference__Preprocessing__Mean__2"] = "0.5",
            ["Inference__Preprocessing__Std__0"] = "0.5", ["Inference__Preprocessing__Std__1"] = "0.5", ["Inference__Preprocessing__Std__2"] = "0.5",
        };
        var sixValues = new Dictionary<string, string?>(environment) { ["Inference__Preprocessing__Mean__3"] = "0.5" };

        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], environment);
        var invalid = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], sixValues);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("env.colour.dominant: blue", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(3, invalid.ExitCode);
        Assert.Contains("got Mean [0.5, 0.5, 0.5, 0.5]", invalid.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-interval", "abc", null, null, "Plugin:IntervalSeconds is 'abc', which is not a number: give -interval SECONDS, or set Plugin:IntervalSeconds in appsettings.json or Plugin__IntervalSeconds in the environment.")]
    [InlineData(null, null, "Plugin__IntervalSeconds", "5 s", "Plugin:IntervalSeconds is '5 s', which is not a number: give -interval SECONDS")]
    [InlineData(null, null, "Inference__IntraOpThreads", "two", "Inference:IntraOpThreads is 'two', which is not a whole number: set Inference:IntraOpThreads in appsettings.json or Inference__IntraOpThreads in the environment.")]
    public void SettingThatDoesNotConvert_ExitsTwoNamingTheKeyTheFlagAndTheVariable(string? flag, string? value, string? variable, string? variableValue, string expected)
    {
        string[] args = ["-input", SamplePlugin.Data("sky.jpg"), "-model", Model, .. flag is null ? Array.Empty<string>() : [flag, value!]];
        var environment = variable is null ? null : new Dictionary<string, string?> { [variable] = variableValue };

        var result = SamplePlugin.Run(args, environment);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: " + expected, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void UnknownArgument_ExitsTwoWithUsage()
    {
        var result = SamplePlugin.Run(["-input", "x.jpg", "-treshold", "0.5"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error: unknown option '-treshold'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Usage: ColourClassifier [options]", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_PrintsUsageToStdoutAndExitsZero()
    {
        var result = SamplePlugin.Run(["--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("-interval SECONDS", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void NoInput_ExitsThreeSayingWhatToGive()
    {
        var result = SamplePlugin.Run(["-model", Model]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Plugin:Input is not set", result.StandardError, StringComparison.Ordinal);
    }
}
