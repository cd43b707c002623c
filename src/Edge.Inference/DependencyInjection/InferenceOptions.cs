namespace Edge.Inference;

/// <summary>
/// Configuration for the plugin's model, bound from the <c>Inference</c> section
/// (appsettings, environment <c>Inference__Model</c>, or <c>-model</c> on the command line).
/// </summary>
public sealed class InferenceOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Inference";

    /// <summary>The model: a path, a <c>file://</c> URI, or a remote URI served by a registered model source.</summary>
    public string? Model { get; set; }

    /// <summary>Threads inside an operator; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads across operators; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Graph optimisation level.</summary>
    public GraphOptimization GraphOptimization { get; set; } = GraphOptimization.All;

    /// <summary>Sequential (default) or parallel operator scheduling.</summary>
    public OperatorScheduling OperatorScheduling { get; set; } = OperatorScheduling.Sequential;

    /// <summary>Whether idle ORT threads spin before sleeping; turn off on shared nodes.</summary>
    public bool AllowSpinning { get; set; } = true;

    /// <summary>Where to write the optimised model; null writes nothing.</summary>
    public string? OptimizedModelPath { get; set; }

    /// <summary>Turns on ORT's profiler with this file-name prefix; null leaves it off.</summary>
    public string? ProfilingPrefix { get; set; }

    /// <summary>
    /// The ONNX Runtime library to use instead of the runtime package's: a file or its folder, such as a
    /// JetPack build on a Jetson. The <c>EDGE_ONNXRUNTIME_PATH</c> environment variable wins over it.
    /// </summary>
    public string? RuntimePath { get; set; }

    /// <summary>The execution provider (section <c>Inference:ExecutionProvider</c>): Name, RequireGpu, DeviceId, ...</summary>
    public ExecutionProviderOptions ExecutionProvider { get; set; } = new();

    /// <summary>How frames become the model's input.</summary>
    public ImagePreprocessing Preprocessing { get; set; } = new();

    /// <summary>The largest model file loaded, in bytes. Default 2 GiB; see <see cref="OnnxModelOptions.MaxModelBytes"/>.</summary>
    public long MaxModelBytes { get; set; } = OnnxModelOptions.DefaultMaxModelBytes;

    internal OnnxModelOptions ToModelOptions() => new()
    {
        MaxModelBytes = MaxModelBytes,
        IntraOpThreads = IntraOpThreads,
        InterOpThreads = InterOpThreads,
        GraphOptimization = GraphOptimization,
        OperatorScheduling = OperatorScheduling,
        AllowSpinning = AllowSpinning,
        OptimizedModelPath = OptimizedModelPath,
        ProfilingPrefix = ProfilingPrefix,
        ExecutionProvider = ExecutionProvider,
        Preprocessing = Preprocessing,
    };
}
