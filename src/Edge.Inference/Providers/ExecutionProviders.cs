using System.Globalization;
using Edge.Inference.Native;

namespace Edge.Inference;

internal enum ProviderKind
{
    Auto,
    Cpu,
    Cuda,
    TensorRt,
    ByName,
}

/// <summary>A provider name resolved to how it is appended: <paramref name="OrtName"/> is what ORT calls it.</summary>
internal readonly record struct ResolvedProvider(ProviderKind Kind, string DisplayName, string OrtName);

/// <summary>Turns provider names into appends on native session options, in fallback order.</summary>
internal static class ExecutionProviders
{
    public const string Auto = "Auto";

    private static readonly ResolvedProvider Cpu = new(ProviderKind.Cpu, "CPU", "CPUExecutionProvider");
    private static readonly ResolvedProvider Cuda = new(ProviderKind.Cuda, "CUDA", "CUDAExecutionProvider");
    private static readonly ResolvedProvider TensorRt = new(ProviderKind.TensorRt, "TensorRT", "TensorrtExecutionProvider");

    // The names ORT's generic append accepts (slot 216), with their long forms; DirectML is ours for "DML".
    private static readonly (string[] Names, string Display, string OrtName)[] ByName =
    [
        (["OpenVINO", "OpenVINOExecutionProvider"], "OpenVINO", "OpenVINO"),
        (["CoreML", "CoreMLExecutionProvider"], "CoreML", "CoreML"),
        (["DirectML", "DML", "DmlExecutionProvider"], "DirectML", "DML"),
        (["QNN", "QNNExecutionProvider"], "QNN", "QNN"),
        (["XNNPACK", "XnnpackExecutionProvider"], "XNNPACK", "XNNPACK"),
        (["WebGPU", "WebGpuExecutionProvider"], "WebGPU", "WebGPU"),
        (["MIGraphX", "MIGraphXExecutionProvider"], "MIGraphX", "MIGraphX"),
        (["VitisAI", "VitisAIExecutionProvider"], "VitisAI", "VitisAI"),
        (["SNPE", "SNPEExecutionProvider"], "SNPE", "SNPE"),
        (["WebNN", "WebNNExecutionProvider"], "WebNN", "WEBNN"),
        (["AZURE", "AzureExecutionProvider"], "AZURE", "AZURE"),
        (["NvTensorRtRtx", "NvTensorRTRTXExecutionProvider"], "NvTensorRtRtx", "NvTensorRtRtx"),
    ];

    /// <summary>Every name <see cref="Resolve"/> accepts, short forms only, for error messages and docs.</summary>
    public static IReadOnlyList<string> ValidNames { get; } =
        [Auto, "CPU", "CUDA", "TensorRT", .. ByName.Select(p => p.Names[0])];

    public static ResolvedProvider Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || Is(name, Auto))
        {
            return new ResolvedProvider(ProviderKind.Auto, Auto, Auto);
        }

        if (Is(name, "CPU") || Is(name, Cpu.OrtName))
        {
            return Cpu;
        }

        if (Is(name, "CUDA") || Is(name, Cuda.OrtName))
        {
            return Cuda;
        }

        if (Is(name, "TensorRT") || Is(name, "TRT") || Is(name, TensorRt.OrtName))
        {
            return TensorRt;
        }

        foreach (var (names, display, ortName) in ByName)
        {
            if (names.Any(n => Is(name, n)))
            {
                return new ResolvedProvider(ProviderKind.ByName, display, ortName);
            }
        }

        throw new ArgumentException(
            $"Unknown execution provider '{name}'. Valid names: {string.Join(", ", ValidNames)}.");
    }

    /// <summary>The providers to try, best first. Without <c>RequireGpu</c> the CPU always ends the list.</summary>
    public static IReadOnlyList<ResolvedProvider> Plan(ExecutionProviderOptions options)
    {
        var requested = Resolve(options.Name);
        List<ResolvedProvider> plan = requested.Kind switch
        {
            ProviderKind.Auto => [TensorRt, Cuda],
            ProviderKind.Cpu => [],
            _ => [requested],
        };
        if (!options.RequireGpu)
        {
            plan.Add(Cpu);
        }

        return plan;
    }

    /// <summary>
    /// Appends <paramref name="provider"/> to native session options. Returns null on success, or why
    /// it could not be used, with the runtime's own log lines (which name a missing library).
    /// </summary>
    public static string? TryAppend(nint sessionOptions, ResolvedProvider provider, ExecutionProviderOptions options, IReadOnlyList<string> compiled)
    {
        switch (provider.Kind)
        {
            case ProviderKind.Cpu:
                return null;
            case ProviderKind.Cuda or ProviderKind.TensorRt when !compiled.Contains(provider.OrtName):
                return $"not compiled into this ONNX Runtime build (it has {string.Join(", ", compiled)}); use a GPU build (see docs/inference.md)";
        }

        using var capture = OrtLog.StartCapture();
        var status = provider.Kind switch
        {
            ProviderKind.Cuda => OrtApi.AppendCuda(sessionOptions, CudaSettings(options)),
            ProviderKind.TensorRt => OrtApi.AppendTensorRt(sessionOptions, TensorRtSettings(options)),
            _ => OrtApi.AppendExecutionProvider(sessionOptions, provider.OrtName, [.. options.Settings]),
        };
        if (status == 0)
        {
            return null;
        }

        var error = OrtLog.Capture.Shorten(OrtApi.ToException(status).Message);
        var detail = capture.Text();
        return detail.Length == 0 || error.Contains(detail, StringComparison.Ordinal)
            ? error
            : $"{error} ({detail})";
    }

    internal static List<KeyValuePair<string, string>> CudaSettings(ExecutionProviderOptions options)
    {
        var settings = new List<KeyValuePair<string, string>>
        {
            new("device_id", options.DeviceId.ToString(CultureInfo.InvariantCulture)),
            new("cudnn_conv_algo_search", options.CudnnConvolutionSearch switch
            {
                CudnnConvolutionSearch.Heuristic => "HEURISTIC",
                CudnnConvolutionSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            }),
        };
        if (options.GpuMemoryLimit > 0)
        {
            settings.Add(new("gpu_mem_limit", options.GpuMemoryLimit.ToString(CultureInfo.InvariantCulture)));
        }

        return WithExtra(settings, options, ProviderKind.Cuda);
    }

    internal static List<KeyValuePair<string, string>> TensorRtSettings(ExecutionProviderOptions options)
    {
        var settings = new List<KeyValuePair<string, string>>
        {
            new("device_id", options.DeviceId.ToString(CultureInfo.InvariantCulture)),
            new("trt_fp16_enable", options.TensorRtFp16 ? "1" : "0"),
        };
        if (!string.IsNullOrEmpty(options.TensorRtEngineCachePath))
        {
            settings.Add(new("trt_engine_cache_enable", "1"));
            settings.Add(new("trt_engine_cache_path", options.TensorRtEngineCachePath));
        }

        return WithExtra(settings, options, ProviderKind.TensorRt);
    }

    /// <summary>Extra settings belong to the provider named; under Auto they would be wrong for the others.</summary>
    private static List<KeyValuePair<string, string>> WithExtra(List<KeyValuePair<string, string>> settings, ExecutionProviderOptions options, ProviderKind kind)
    {
        if (Resolve(options.Name).Kind != kind)
        {
            return settings;
        }

        foreach (var pair in options.Settings)
        {
            settings.RemoveAll(s => s.Key == pair.Key);
            settings.Add(pair);
        }

        return settings;
    }

    private static bool Is(string name, string candidate) => string.Equals(name.Trim(), candidate, StringComparison.OrdinalIgnoreCase);
}
