using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Inference.Tests;

// These run against the CPU runtime package, which has no GPU provider compiled in. The GPU package on
// this machine without CUDA is tested end to end (Edge.EndToEnd.Tests, GpuRuntimeTests), in a process
// of its own, since a process opens one runtime library.
public sealed class ExecutionProviderTests
{
    [Fact]
    public void Auto_OnCpuOnlyRuntime_PicksCpuInOneShortInfoLine()
    {
        var log = new ListLogger();
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), new OnnxModelOptions { Logger = log });

        Assert.Equal("CPU", model.ExecutionProvider);
        Assert.Equal(["TensorRT", "CUDA"], model.ProviderChoice.Skipped.Select(s => s.Provider));
        Assert.All(model.ProviderChoice.Skipped, s => Assert.Equal("not in this CPU-only ONNX Runtime build", s.Reason));
        // The long story, with the library's path, is for debug logs only.
        Assert.All(model.ProviderChoice.Skipped, s => Assert.Contains(OnnxRuntimeLibrary.LibraryPath, s.Detail, StringComparison.Ordinal));

        var info = Assert.Single(log.Lines, l => l.StartsWith("Information:", StringComparison.Ordinal));
        Assert.EndsWith("add.onnx runs on CPU: TensorRT, CUDA not in this CPU-only ONNX Runtime build", info, StringComparison.Ordinal);
        Assert.DoesNotContain(OnnxRuntimeLibrary.LibraryPath, info, StringComparison.Ordinal);
        Assert.Equal(2, log.Lines.Count(l => l.StartsWith("Debug:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Auto_SessionStillRunsAfterTheFallback()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[] { 2, 2, 2, 2 }, 1, 4);
        using var b = Values.Tensor(new float[] { 3, 3, 3, 3 }, 1, 4);

        using var outputs = model.Run(new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue> { ["a"] = a, ["b"] = b });

        Assert.All(Values.Read<float>(outputs[0]), v => Assert.Equal(5f, v));
    }

    [Fact]
    public void Describe_NamesTheProviderInUseAndTheSkippedOnes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));

        var text = model.Describe();

        Assert.Contains("on CPU", text, StringComparison.Ordinal);
        Assert.Contains("skipped CUDA not in this CPU-only ONNX Runtime build", text, StringComparison.Ordinal);
        Assert.Contains("CPUExecutionProvider", model.ProviderChoice.Compiled);
    }

    [Theory]
    [InlineData("Auto")]
    [InlineData("CUDA")]
    [InlineData("TensorRT")]
    public void RequireGpu_WithoutGpuProviderLibraries_FailsNamingEveryReason(string name)
    {
        var options = new OnnxModelOptions { ExecutionProvider = { Name = name, RequireGpu = true } };

        var error = Assert.Throws<InferenceException>(() => OnnxModel.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("add.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains(OnnxRuntimeLibrary.LibraryPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitCuda_FallsBackToCpuWithAWarning()
    {
        var log = new ListLogger();
        var options = new OnnxModelOptions
        {
            Logger = log,
            ExecutionProvider = { Name = "cuda", DeviceId = 1, GpuMemoryLimit = 1L << 30, CudnnConvolutionSearch = CudnnConvolutionSearch.Heuristic },
        };

        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), options);

        Assert.Equal("CPU", model.ExecutionProvider);
        Assert.Equal("CUDA", Assert.Single(model.ProviderChoice.Skipped).Provider);
        Assert.StartsWith("Warning:", Assert.Single(log.Lines, l => !l.StartsWith("Debug:", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void ProviderNotInThisBuild_ByGenericAppend_FallsBackWithOrtsReason()
    {
        var options = new OnnxModelOptions { ExecutionProvider = { Name = "OpenVINO", Settings = { ["device_type"] = "CPU" } } };

        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), options);

        Assert.Equal("CPU", model.ExecutionProvider);
        var skipped = Assert.Single(model.ProviderChoice.Skipped);
        Assert.Equal("OpenVINO", skipped.Provider);
        Assert.StartsWith("could not be attached: ", skipped.Reason, StringComparison.Ordinal);
        Assert.Contains("OpenVINO", skipped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_TriesNothingElse()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), new OnnxModelOptions { ExecutionProvider = { Name = "CPUExecutionProvider" } });

        Assert.Equal("CPU", model.ExecutionProvider);
        Assert.Empty(model.ProviderChoice.Skipped);
        Assert.Equal("runs on CPU", model.ProviderChoice.ToString());
    }

    [Fact]
    public void UnknownProvider_FailsNamingTheValidOnes()
    {
        var options = new OnnxModelOptions { ExecutionProvider = { Name = "Cuda2" } };

        var error = Assert.Throws<ArgumentException>(() => OnnxModel.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("'Cuda2'", error.Message, StringComparison.Ordinal);
        foreach (var valid in new[] { "Auto", "CPU", "CUDA", "TensorRT", "OpenVINO", "CoreML", "DirectML" })
        {
            Assert.Contains(valid, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RequireGpu_WithCpu_IsRejectedBeforeLoading()
    {
        var options = new OnnxModelOptions { ExecutionProvider = { Name = "CPU", RequireGpu = true } };

        var error = Assert.Throws<ArgumentException>(() => OnnxModel.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaSettings_CarryDeviceMemoryLimitAndSearch()
    {
        var options = new ExecutionProviderOptions { Name = "CUDA", DeviceId = 2, GpuMemoryLimit = 4096, CudnnConvolutionSearch = CudnnConvolutionSearch.Default };
        options.Settings["arena_extend_strategy"] = "kSameAsRequested";

        var settings = ExecutionProviders.CudaSettings(options);

        Assert.Equal("2", settings["device_id"]);
        Assert.Equal("4096", settings["gpu_mem_limit"]);
        Assert.Equal("DEFAULT", settings["cudnn_conv_algo_search"]);
        Assert.Equal("kSameAsRequested", settings["arena_extend_strategy"]);
    }

    [Fact]
    public void TensorRtSettings_CarryFp16AndEngineCache()
    {
        var options = new ExecutionProviderOptions { TensorRtFp16 = true, TensorRtEngineCachePath = "/var/cache/trt" };
        options.Settings["device_type"] = "ignored under Auto";

        var settings = ExecutionProviders.TensorRtSettings(options);

        Assert.Equal("1", settings["trt_fp16_enable"]);
        Assert.Equal("1", settings["trt_engine_cache_enable"]);
        Assert.Equal("/var/cache/trt", settings["trt_engine_cache_path"]);
        Assert.False(settings.ContainsKey("device_type"));
    }

    [Fact]
    public void Reasons_DropTheRuntimesSourceLocation()
    {
        const string line = "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /x/libonnxruntime_providers_shared.so with error: cannot open shared object file";

        Assert.Equal("Failed to load library /x/libonnxruntime_providers_shared.so with error: cannot open shared object file", OrtLog.Shorten(line));
        Assert.Equal("the session failed", OrtLog.Shorten("[ErrorCode:Fail] the session failed"));
        Assert.Equal("plain words", OrtLog.Shorten(" plain words "));
    }

    [Theory]
    [InlineData("/x/libonnxruntime_providers_cuda.so: libcublasLt.so.13: cannot open shared object file: No such file or directory", "libcublasLt.so.13")]
    [InlineData("libnvinfer.so.10: cannot open shared object file: No such file or directory", "libnvinfer.so.10")]
    [InlineData("/x/libonnxruntime_providers_cuda.so: undefined symbol: cudnnCreate", null)]
    public void MissingLibrary_IsReadFromTheLoadersOwnWords(string loaderError, string? expected)
    {
        Assert.Equal(expected, ProviderLibraries.FirstLibraryNamed(loaderError));
    }

    [Fact]
    public void SkippedProviders_WithTheSameReason_ShareOneClause()
    {
        var choice = new ExecutionProviderChoice(
            "CPU",
            [new("TensorRT", "libraries not found (libcublas.so.13)", "d"), new("CUDA", "libraries not found (libcublasLt.so.13)", "d")],
            ["CPUExecutionProvider"]);

        Assert.Equal("runs on CPU: TensorRT libraries not found (libcublas.so.13); CUDA libraries not found (libcublasLt.so.13)", choice.ToString());
    }

    /// <summary>Keeps what was logged, to assert on it.</summary>
    internal sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
