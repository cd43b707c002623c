namespace Edge.Inference;

/// <summary>How cuDNN picks a convolution algorithm (CUDA's <c>cudnn_conv_algo_search</c>).</summary>
public enum CudnnConvolutionSearch
{
    /// <summary>Benchmark every algorithm once per shape: slowest start, fastest runs. ORT's default.</summary>
    Exhaustive,

    /// <summary>Ask cuDNN's heuristics: quick start, usually close to the best.</summary>
    Heuristic,

    /// <summary>Always the implicit-precomputed GEMM algorithm.</summary>
    Default,
}

/// <summary>
/// Which execution provider a session runs on, and its settings. The default, <c>Auto</c>, tries
/// TensorRT, then CUDA, then the CPU, and the session reports why each skipped provider was skipped.
/// </summary>
public sealed class ExecutionProviderOptions
{
    /// <summary>
    /// <c>Auto</c> (default), <c>CPU</c>, <c>CUDA</c>, <c>TensorRT</c>, or a provider ONNX Runtime
    /// appends by name: <c>OpenVINO</c>, <c>CoreML</c>, <c>DirectML</c>, <c>QNN</c>, <c>XNNPACK</c>,
    /// <c>WebGPU</c>, <c>MIGraphX</c>, <c>VitisAI</c>, <c>SNPE</c>, <c>WebNN</c>, <c>AZURE</c>.
    /// Case does not matter, and ORT's long names such as <c>CUDAExecutionProvider</c> work too.
    /// </summary>
    public string Name { get; set; } = ExecutionProviders.Auto;

    /// <summary>
    /// Turns a fallback to the CPU into an error: the session fails to load unless the accelerator
    /// attaches, and ORT may not place any node on the CPU (<c>session.disable_cpu_ep_fallback</c>).
    /// </summary>
    public bool RequireGpu { get; set; }

    /// <summary>The GPU to run on (CUDA and TensorRT <c>device_id</c>). Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>CUDA's memory arena limit in bytes (<c>gpu_mem_limit</c>); 0 leaves it unlimited.</summary>
    public long GpuMemoryLimit { get; set; }

    /// <summary>cuDNN convolution algorithm search. Default <see cref="CudnnConvolutionSearch.Exhaustive"/>.</summary>
    public CudnnConvolutionSearch CudnnConvolutionSearch { get; set; } = CudnnConvolutionSearch.Exhaustive;

    /// <summary>Lets TensorRT build half-precision engines (<c>trt_fp16_enable</c>).</summary>
    public bool TensorRtFp16 { get; set; }

    /// <summary>
    /// A folder where TensorRT keeps built engines (<c>trt_engine_cache_path</c>), so a restart skips
    /// the minutes an engine build can take on a Jetson. Null disables the cache.
    /// </summary>
    public string? TensorRtEngineCachePath { get; set; }

    /// <summary>
    /// Further provider settings, passed to the provider as given: for example
    /// <c>device_type=GPU</c> for OpenVINO or <c>arena_extend_strategy=kSameAsRequested</c> for CUDA.
    /// </summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    internal void Validate()
    {
        ResolvedProvider resolved;
        try
        {
            resolved = ExecutionProviders.Resolve(Name);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"ExecutionProvider:Name: {e.Message}", e);
        }

        if (RequireGpu && resolved.Kind == ProviderKind.Cpu)
        {
            throw new ArgumentException($"ExecutionProvider:RequireGpu is set, but ExecutionProvider:Name is '{Name}'. Choose Auto, CUDA, TensorRT or another accelerator, or clear RequireGpu.");
        }

        if (DeviceId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DeviceId), DeviceId, "ExecutionProvider:DeviceId must be 0 or more.");
        }

        if (GpuMemoryLimit < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(GpuMemoryLimit), GpuMemoryLimit, "ExecutionProvider:GpuMemoryLimit must be 0 (unlimited) or a number of bytes.");
        }

        if (!Enum.IsDefined(CudnnConvolutionSearch))
        {
            throw new ArgumentOutOfRangeException(nameof(CudnnConvolutionSearch), CudnnConvolutionSearch, $"ExecutionProvider:CudnnConvolutionSearch must be one of {string.Join(", ", Enum.GetNames<CudnnConvolutionSearch>())}.");
        }
    }
}

/// <summary>What happened when a model chose its execution provider.</summary>
/// <param name="Provider">The provider the session runs on, such as <c>CUDA</c> or <c>CPU</c>.</param>
/// <param name="Skipped">Each provider tried before it, with the reason it was not used.</param>
/// <param name="Compiled">The providers compiled into the loaded runtime.</param>
public sealed record ExecutionProviderChoice(string Provider, IReadOnlyList<SkippedProvider> Skipped, IReadOnlyList<string> Compiled)
{
    /// <summary>One short line for a log: the provider in use, then why each one before it was skipped.</summary>
    public override string ToString() =>
        Skipped.Count == 0
            ? $"runs on {Provider}"
            : $"runs on {Provider}: {string.Join("; ", Grouped())}";

    // "TensorRT, CUDA not in this CPU-only ONNX Runtime build" rather than the same reason twice.
    private IEnumerable<string> Grouped()
    {
        for (var i = 0; i < Skipped.Count;)
        {
            var j = i + 1;
            while (j < Skipped.Count && Skipped[j].Reason == Skipped[i].Reason)
            {
                j++;
            }

            yield return $"{string.Join(", ", Skipped.Skip(i).Take(j - i).Select(s => s.Provider))} {Skipped[i].Reason}";
            i = j;
        }
    }
}

/// <summary>A provider that was tried and not used.</summary>
/// <param name="Provider">Its name.</param>
/// <param name="Reason">Why, in a few words: <c>libraries not found (libcublasLt.so.13)</c>.</param>
/// <param name="Detail">The whole story: ONNX Runtime's message, its log lines, the paths tried.</param>
public readonly record struct SkippedProvider(string Provider, string Reason, string Detail)
{
    /// <summary>The provider and the reason, as a log reads them: <c>CUDA libraries not found (libcublasLt.so.13)</c>.</summary>
    public override string ToString() => $"{Provider} {Reason}";
}
