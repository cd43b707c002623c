using System.Reflection;
using Edge.Testing;

namespace Edge.EndToEnd.Tests;

/// <summary>
/// The sample on native runtimes other than its own package's, chosen through EDGE_ONNXRUNTIME_PATH as
/// a Jetson user would: the real GPU package on this machine without CUDA, and a library older than
/// the managed package.
/// </summary>
public sealed class GpuRuntimeTests
{
    private static readonly string Model = RepoPaths.Model("colour-classifier.onnx");

    private static readonly string GpuRuntime = typeof(GpuRuntimeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "GpuRuntimeFolder").Value!;

    [Fact]
    public void GpuPackage_WithoutCuda_FallsBackToCpuNamingTheMissingLibraries()
    {
        Assert.True(File.Exists(Path.Combine(GpuRuntime, "libonnxruntime_providers_cuda.so")), $"the GPU package is not at {GpuRuntime}");

        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], new Dictionary<string, string?> { ["EDGE_ONNXRUNTIME_PATH"] = GpuRuntime });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("env.colour.dominant: blue (confidence=0.933, input=sky.jpg)\n", result.StandardOutput);
        // One short line: the real missing file for each provider, not "Failed to load shared library".
        var line = Assert.Single(result.StandardError.Split('\n'), l => l.Contains("runs on CPU", StringComparison.Ordinal));
        Assert.Matches(@"colour-classifier\.onnx runs on CPU: TensorRT libraries not found \(lib[A-Za-z]+\.so\.\d+\); CUDA libraries not found \(libcublasLt\.so\.13\)$", line);
        // A warning-free start: ORT's own errors about the missing providers were taken in as reasons.
        Assert.DoesNotContain("Failed to load", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void GpuPackage_RequireGpu_ExitsThreeNamingTheMissingLibrary()
    {
        var result = SamplePlugin.Run(
            ["-input", SamplePlugin.Data("sky.jpg"), "-model", Model],
            new Dictionary<string, string?> { ["EDGE_ONNXRUNTIME_PATH"] = GpuRuntime, ["Inference__ExecutionProvider__Name"] = "CUDA", ["Inference__ExecutionProvider__RequireGpu"] = "true" });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("RequireGpu is set and no GPU provider could run", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("libcublasLt.so.13: cannot open shared object file", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Theory]
    [InlineData("1.17.0", "is version 1.17.0, older than Microsoft.ML.OnnxRuntime.Managed 1.30.0")]
    [InlineData("1.30.0", "is version 1.30.0 but does not offer C API version 30")]
    public void LibraryTheManagedPackageCannotUse_ExitsThreeNamingBothVersions(string version, string expected)
    {
        var folder = Directory.CreateTempSubdirectory("edge-old-ort-").FullName;
        var source = Path.Combine(folder, "old_ort.c");
        // Just enough of ONNX Runtime's entry point to be asked its version and API level, answering no.
        File.WriteAllText(source, $$"""
            #include <stddef.h>
            typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;
            static const void* get_api(unsigned version) { return NULL; }
            static const char* version(void) { return "{{version}}"; }
            static const OrtApiBase base = { get_api, version };
            const OrtApiBase* OrtGetApiBase(void) { return &base; }
            """);
        var library = Path.Combine(folder, "libonnxruntime.so");
        var compile = Tool.Run("cc", ["-shared", "-fPIC", "-o", library, source], folder, null, TimeSpan.FromMinutes(1));
        Assert.True(compile.ExitCode == 0, compile.ToString());

        var result = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], new Dictionary<string, string?> { ["EDGE_ONNXRUNTIME_PATH"] = folder });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"ONNX Runtime at {library} (EDGE_ONNXRUNTIME_PATH folder) {expected}", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Install ONNX Runtime 1.30 or newer", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void RuntimePathSetting_ChoosesTheLibrary_AndAMissingOneFailsAtStart()
    {
        var chosen = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], new Dictionary<string, string?> { ["Inference__RuntimePath"] = GpuRuntime });
        var missing = SamplePlugin.Run(["-input", SamplePlugin.Data("sky.jpg"), "-model", Model], new Dictionary<string, string?> { ["Inference__RuntimePath"] = "/opt/no-such-ort" });

        Assert.True(chosen.ExitCode == 0, chosen.ToString());
        Assert.Contains("CUDA libraries not found (libcublasLt.so.13)", chosen.StandardError, StringComparison.Ordinal);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("Inference:RuntimePath: /opt/no-such-ort does not exist", missing.StandardError, StringComparison.Ordinal);
    }
}
