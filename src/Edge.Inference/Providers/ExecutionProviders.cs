using System.Globalization;
using Microsoft.ML.OnnxRuntime;

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

    // The names ORT's generic SessionOptions.AppendExecutionProvider accepts, with their long forms; DirectML is ours for "DML".
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
    /// Attaches <paramref name="provider"/> to the session options. Returns null on success, or why it
    /// could not be used: the library that is really missing, not only "Failed to load shared library".
    /// </summary>
    public static SkippedProvider? TryAppend(SessionOptions sessionOptions, ResolvedProvider provider, ExecutionProviderOptions options, IReadOnlyList<string> compiled)
    {
        switch (provider.Kind)
        {
            case ProviderKind.Cpu:
                return null;
            case ProviderKind.Cuda or ProviderKind.TensorRt when !compiled.Contains(provider.OrtName):
                return new SkippedProvider(
                    provider.DisplayName,
                    "not in this CPU-only ONNX Runtime build",
                    $"ONNX Runtime {OnnxRuntimeLibrary.Version} at {OnnxRuntimeLibrary.LibraryPath} was built with {string.Join(", ", compiled)}; the Microsoft.ML.OnnxRuntime.Gpu.Linux package (or a JetPack build at {OnnxRuntimeLibrary.PathVariable}) has {provider.DisplayName}.");
        }

        using var capture = OrtLog.StartCapture();
        try
        {
            switch (provider.Kind)
            {
                case ProviderKind.Cuda:
                    using (var cuda = new OrtCUDAProviderOptions())
                    {
                        cuda.UpdateOptions(CudaSettings(options));
                        sessionOptions.AppendExecutionProvider_CUDA(cuda);
                    }

                    break;
                case ProviderKind.TensorRt:
                    using (var tensorRt = new OrtTensorRTProviderOptions())
                    {
                        tensorRt.UpdateOptions(TensorRtSettings(options));
                        sessionOptions.AppendExecutionProvider_Tensorrt(tensorRt);
                    }

                    break;
                default:
                    sessionOptions.AppendExecutionProvider(provider.OrtName, options.Settings);
                    break;
            }

            return null;
        }
        catch (OnnxRuntimeException e)
        {
            var error = OrtLog.Shorten(e.Message);
            var log = string.Join(" | ", capture.Lines.Select(OrtLog.Shorten));
            var detail = log.Length == 0 || error.Contains(log, StringComparison.Ordinal) ? error : $"{error} ({log})";
            var missing = ProviderLibraries.MissingDependency(provider);
            return new SkippedProvider(
                provider.DisplayName,
                missing is not null ? $"libraries not found ({missing.Value.Library})" : $"could not be attached: {error}",
                missing is not null ? $"{detail}; {missing.Value.Detail}" : detail);
        }
    }

    internal static Dictionary<string, string> CudaSettings(ExecutionProviderOptions options)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = options.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = options.CudnnConvolutionSearch switch
            {
                CudnnConvolutionSearch.Heuristic => "HEURISTIC",
                CudnnConvolutionSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
        };
        if (options.GpuMemoryLimit > 0)
        {
            settings["gpu_mem_limit"] = options.GpuMemoryLimit.ToString(CultureInfo.InvariantCulture);
        }

        return WithExtra(settings, options, ProviderKind.Cuda);
    }

    internal static Dictionary<string, string> TensorRtSettings(ExecutionProviderOptions options)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = options.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = options.TensorRtFp16 ? "1" : "0",
        };
        if (!string.IsNullOrEmpty(options.TensorRtEngineCachePath))
        {
            settings["trt_engine_cache_enable"] = "1";
            settings["trt_engine_cache_path"] = options.TensorRtEngineCachePath;
        }

        return WithExtra(settings, options, ProviderKind.TensorRt);
    }

    /// <summary>Extra settings belong to the provider named; under Auto they would be wrong for the others.</summary>
    private static Dictionary<string, string> WithExtra(Dictionary<string, string> settings, ExecutionProviderOptions options, ProviderKind kind)
    {
        if (Resolve(options.Name).Kind != kind)
        {
            return settings;
        }

        foreach (var (key, value) in options.Settings)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static bool Is(string name, string candidate) => string.Equals(name.Trim(), candidate, StringComparison.OrdinalIgnoreCase);
}
