using Edge.Plugin.Hosting;
using Edge.Plugin.Testing;

namespace EdgePluginNamespace.Tests;

/// <summary>
/// Unit tests of the plugin: PluginTestHost runs it in memory with the program's own setup
/// (PluginSetup.Configure), the same command line and frame pipeline, and keeps what it publishes.
/// </summary>
public sealed class ClassifierTests
{
#if (isPipeline)
    private const string Result = "pipeline.classification";
#elseif (isFunction)
    private const string Result = "function.classification";
#else
    private const string Result = "env.classification";
#endif
    private static readonly string SampleModel = Path.Combine(AppContext.BaseDirectory, "models", "colour-classifier.onnx");
    private static readonly string SampleImage = Path.Combine(AppContext.BaseDirectory, "samples", "red-apple.jpg");

#if (isPlugin)
    private static readonly PluginTestHost Host = new(builder => PluginSetup.Configure(builder));
#else
    // -mode dev: run on the given files, not on AiCSD requests or Abaco's MSG.
    private static readonly PluginTestHost Host = new(builder => PluginSetup.Configure(builder));
    private static readonly string[] Dev = ["-mode", "dev"];
#endif

    [Fact]
    public async Task SampleImage_IsClassifiedRed()
    {
#if (isPlugin)
        var run = await Host.RunAsync([SampleImage], "-model", SampleModel);
#else
        var run = await Host.RunAsync([SampleImage], [.. Dev, "-model", SampleModel]);
#endif

        Assert.True(run.ExitCode == ExitCodes.Success, string.Join(Environment.NewLine, run.Log));
        var result = Assert.Single(run.Named(Result));
        Assert.Equal("red", result.Value.ToString());
        Assert.True(double.Parse(result.Meta["confidence"], System.Globalization.CultureInfo.InvariantCulture) > 0.5);
    }

    [Fact]
    public async Task MissingModel_FailsAtStartNamingIt()
    {
#if (isPlugin)
        var run = await Host.RunAsync([SampleImage], "-model", "missing.onnx");
#else
        var run = await Host.RunAsync([SampleImage], [.. Dev, "-model", "missing.onnx"]);
#endif

        Assert.Equal(ExitCodes.StartFailed, run.ExitCode);
        Assert.Empty(run.Published);
        Assert.Contains(run.Log, line => line.Contains("missing.onnx", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CorruptImage_FailsThatFrameOnly_AndTheExitCodeSaysSo()
    {
        var corrupt = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.jpg");
        await File.WriteAllBytesAsync(corrupt, [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46]);
        try
        {
#if (isPlugin)
            var run = await Host.RunAsync([corrupt, SampleImage], "-model", SampleModel);
#else
            var run = await Host.RunAsync([corrupt, SampleImage], [.. Dev, "-model", SampleModel]);
#endif

            Assert.Equal(ExitCodes.Failed, run.ExitCode);
            Assert.Equal("red", Assert.Single(run.Named(Result)).Value.ToString());
            Assert.Contains(run.Log, line => line.Contains(Path.GetFileName(corrupt), StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(corrupt);
        }
    }
}
