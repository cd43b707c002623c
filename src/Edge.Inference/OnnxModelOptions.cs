namespace Edge.Inference;

/// <summary>How ONNX Runtime optimises the graph before running it (its <c>GraphOptimizationLevel</c>, with names for configuration files).</summary>
public enum GraphOptimization
{
    /// <summary>No optimisation.</summary>
    Disabled = 0,

    /// <summary>Constant folding and redundant-node removal.</summary>
    Basic = 1,

    /// <summary>Basic plus node fusions.</summary>
    Extended = 2,

    /// <summary>Everything, including layout optimisations. The runtime's default.</summary>
    All = 99,
}

/// <summary>How a session schedules the operators of one run (ONNX Runtime's <c>ExecutionMode</c>).</summary>
public enum OperatorScheduling
{
    /// <summary>One operator after another, each using the intra-op threads. The runtime's default.</summary>
    Sequential = 0,

    /// <summary>Independent branches run at once on the inter-op threads; helps only wide graphs.</summary>
    Parallel = 1,
}

/// <summary>Options for loading an <see cref="OnnxModel"/>.</summary>
public sealed class OnnxModelOptions
{
    /// <summary>Graph optimisation level. Default: <see cref="GraphOptimization.All"/>.</summary>
    public GraphOptimization GraphOptimization { get; set; } = GraphOptimization.All;

    /// <summary>Threads used inside an operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads used across independent operators; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Sequential (default) or parallel operator scheduling.</summary>
    public OperatorScheduling OperatorScheduling { get; set; } = OperatorScheduling.Sequential;

    /// <summary>
    /// Whether idle worker threads spin before sleeping. Spinning (the runtime's default) lowers latency
    /// and burns CPU; turn it off on a node that shares its cores with other plugins.
    /// </summary>
    public bool AllowSpinning { get; set; } = true;

    /// <summary>Where ORT writes the model after graph optimisation, to inspect it or load it faster; null writes nothing.</summary>
    public string? OptimizedModelPath { get; set; }

    /// <summary>
    /// Turns on ORT's profiler: a Chrome-trace JSON file whose name starts with this prefix, written
    /// when <see cref="OnnxModel.EndProfiling"/> is called or the session is disposed. Null: off.
    /// </summary>
    public string? ProfilingPrefix { get; set; }

    /// <summary>
    /// Called last on the runtime's own session options, for what these options do not name: custom
    /// operator libraries, free-dimension overrides, shared thread pools, EP device selection.
    /// </summary>
    public Action<Microsoft.ML.OnnxRuntime.SessionOptions>? ConfigureSession { get; set; }

    /// <summary>Further session configuration entries (<c>AddSessionConfigEntry</c>), such as <c>session.use_env_allocators</c>.</summary>
    public Dictionary<string, string> ConfigEntries { get; } = new(StringComparer.Ordinal);

    /// <summary>The execution provider and its settings. Default: Auto (TensorRT, then CUDA, then CPU).</summary>
    public ExecutionProviderOptions ExecutionProvider { get; set; } = new();

    /// <summary>Receives, once per session, the provider chosen and why each other was skipped. Null: not logged.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; set; }

    /// <summary>How <see cref="OnnxModel.Run(Edge.Plugin.Frame, System.Threading.CancellationToken)"/> turns a frame into the input tensor.</summary>
    public ImagePreprocessing Preprocessing { get; set; } = new();

    /// <summary>
    /// The largest model file loaded, in bytes; a larger one is refused before the runtime reads it.
    /// Default 2 GiB, protobuf's own limit for one file (weights past it go in external data files).
    /// </summary>
    public long MaxModelBytes { get; set; } = DefaultMaxModelBytes;

    /// <summary>The default of <see cref="MaxModelBytes"/>: 2 GiB.</summary>
    public const long DefaultMaxModelBytes = 2L << 30;

    internal void Validate()
    {
        if (MaxModelBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxModelBytes), MaxModelBytes, $"MaxModelBytes must be a positive number of bytes, such as {DefaultMaxModelBytes}.");
        }

        if (IntraOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be 0 (runtime default) or more.");
        }

        if (InterOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, "InterOpThreads must be 0 (runtime default) or more.");
        }

        if (!Enum.IsDefined(GraphOptimization))
        {
            throw new ArgumentOutOfRangeException(nameof(GraphOptimization), GraphOptimization, $"GraphOptimization must be one of {string.Join(", ", Enum.GetNames<GraphOptimization>())}.");
        }

        if (!Enum.IsDefined(OperatorScheduling))
        {
            throw new ArgumentOutOfRangeException(nameof(OperatorScheduling), OperatorScheduling, "OperatorScheduling must be Sequential or Parallel.");
        }

        ArgumentNullException.ThrowIfNull(ExecutionProvider);
        ExecutionProvider.Validate();
        Preprocessing.Validate();
    }
}
