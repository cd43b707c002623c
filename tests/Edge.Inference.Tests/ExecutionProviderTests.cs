using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Inference.Tests;

// These run against the npm ONNX Runtime 1.30 build: it lists CUDA and TensorRT as compiled in but ships
// without their provider libraries, which is exactly a GPU-capable runtime on a machine lacking them.
public sealed class ExecutionProviderTests
{
    [Fact]
    public void Auto_OnCpuOnlyRuntime_PicksCpuAndSaysWhyEachGpuProviderWasSkipped()
    {
        var log = new ListLogger();
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), new InferenceSessionOptions { Logger = log });

        Assert.Equal("CPU", session.ExecutionProvider);
        Assert.Equal(["TensorRT", "CUDA"], session.ProviderChoice.Skipped.Select(s => s.Provider));
        foreach (var skipped in session.ProviderChoice.Skipped)
        {
            // The reason carries ORT's own words, including the library file that is missing.
            Assert.Contains("Failed to load", skipped.Reason, StringComparison.Ordinal);
            Assert.Contains("libonnxruntime_providers_shared.so", skipped.Reason, StringComparison.Ordinal);
        }

        var line = Assert.Single(log.Lines);
        Assert.StartsWith("Information:", line, StringComparison.Ordinal);
        Assert.Contains("runs on CPU", line, StringComparison.Ordinal);
        Assert.Contains("TensorRT:", line, StringComparison.Ordinal);
        Assert.Contains("CUDA:", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_SessionStillRunsAfterTheFallback()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        a.Span.Fill(2);
        b.Span.Fill(3);

        session.Run([a, b], [sum]);

        Assert.All(sum.Span.ToArray(), v => Assert.Equal(5f, v));
    }

    [Fact]
    public void Describe_NamesTheProviderInUseAndTheCompiledOnes()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));

        var text = session.Describe();

        Assert.Contains("on CPU", text, StringComparison.Ordinal);
        Assert.Contains("skipped CUDA", text, StringComparison.Ordinal);
        Assert.Contains("CUDAExecutionProvider", text, StringComparison.Ordinal);
        Assert.Contains("CPUExecutionProvider", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Auto")]
    [InlineData("CUDA")]
    [InlineData("TensorRT")]
    public void RequireGpu_WithoutGpuProviderLibraries_FailsNamingEveryReason(string name)
    {
        var options = new InferenceSessionOptions { ExecutionProvider = { Name = name, RequireGpu = true } };

        var error = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Equal(OrtErrorCode.ExecutionProviderFail, error.ErrorCode);
        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
        Assert.Contains("libonnxruntime_providers_shared.so", error.Message, StringComparison.Ordinal);
        Assert.Contains("add.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitCuda_FallsBackToCpuWithAWarning()
    {
        var log = new ListLogger();
        var options = new InferenceSessionOptions
        {
            Logger = log,
            ExecutionProvider = { Name = "cuda", DeviceId = 1, GpuMemoryLimit = 1L << 30, CudnnConvolutionSearch = CudnnConvolutionSearch.Heuristic },
        };

        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), options);

        Assert.Equal("CPU", session.ExecutionProvider);
        Assert.Equal("CUDA", Assert.Single(session.ProviderChoice.Skipped).Provider);
        Assert.StartsWith("Warning:", Assert.Single(log.Lines), StringComparison.Ordinal);
    }

    [Fact]
    public void ProviderNotInThisBuild_ByGenericAppend_FallsBackWithOrtsReason()
    {
        var options = new InferenceSessionOptions { ExecutionProvider = { Name = "OpenVINO", Settings = { ["device_type"] = "CPU" } } };

        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), options);

        Assert.Equal("CPU", session.ExecutionProvider);
        var skipped = Assert.Single(session.ProviderChoice.Skipped);
        Assert.Equal("OpenVINO", skipped.Provider);
        Assert.Contains("not supported in this build", skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_TriesNothingElse()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), new InferenceSessionOptions { ExecutionProvider = { Name = "CPUExecutionProvider" } });

        Assert.Equal("CPU", session.ExecutionProvider);
        Assert.Empty(session.ProviderChoice.Skipped);
        Assert.Equal("runs on CPU", session.ProviderChoice.ToString());
    }

    [Fact]
    public void UnknownProvider_FailsNamingTheValidOnes()
    {
        var options = new InferenceSessionOptions { ExecutionProvider = { Name = "Cuda2" } };

        var error = Assert.Throws<ArgumentException>(() => InferenceSession.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("'Cuda2'", error.Message, StringComparison.Ordinal);
        foreach (var valid in new[] { "Auto", "CPU", "CUDA", "TensorRT", "OpenVINO", "CoreML", "DirectML" })
        {
            Assert.Contains(valid, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RequireGpu_WithCpu_IsRejectedBeforeLoading()
    {
        var options = new InferenceSessionOptions { ExecutionProvider = { Name = "CPU", RequireGpu = true } };

        var error = Assert.Throws<ArgumentException>(() => InferenceSession.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("RequireGpu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaSettings_CarryDeviceMemoryLimitAndSearch()
    {
        var options = new ExecutionProviderOptions { Name = "CUDA", DeviceId = 2, GpuMemoryLimit = 4096, CudnnConvolutionSearch = CudnnConvolutionSearch.Default };
        options.Settings["arena_extend_strategy"] = "kSameAsRequested";

        var settings = ExecutionProviders.CudaSettings(options).ToDictionary(p => p.Key, p => p.Value);

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

        var settings = ExecutionProviders.TensorRtSettings(options).ToDictionary(p => p.Key, p => p.Value);

        Assert.Equal("1", settings["trt_fp16_enable"]);
        Assert.Equal("1", settings["trt_engine_cache_enable"]);
        Assert.Equal("/var/cache/trt", settings["trt_engine_cache_path"]);
        Assert.False(settings.ContainsKey("device_type"));
    }

    [Fact]
    public void Reasons_DropTheRuntimesSourceLocation()
    {
        const string line = "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /x/libonnxruntime_providers_shared.so with error: cannot open shared object file";

        Assert.Equal("Failed to load library /x/libonnxruntime_providers_shared.so with error: cannot open shared object file", Native.OrtLog.Capture.Shorten(line));
        Assert.Equal("plain words", Native.OrtLog.Capture.Shorten(" plain words "));
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
