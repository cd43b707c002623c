namespace Edge.Inference;

/// <summary>How ONNX Runtime optimises the graph before running it.</summary>
public enum GraphOptimizationLevel
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

/// <summary>Options for creating an <see cref="InferenceSession"/>.</summary>
public sealed class InferenceSessionOptions
{
    /// <summary>Graph optimisation level. Default: <see cref="GraphOptimizationLevel.All"/>.</summary>
    public GraphOptimizationLevel GraphOptimization { get; set; } = GraphOptimizationLevel.All;

    /// <summary>Threads used inside an operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads used across independent operators; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>How <see cref="InferenceSession.Run(Edge.Plugin.Frame, System.Threading.CancellationToken)"/> turns a frame into the input tensor.</summary>
    public ImagePreprocessing Preprocessing { get; set; } = new();

    internal void Validate()
    {
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
            throw new ArgumentOutOfRangeException(nameof(GraphOptimization), GraphOptimization, "Unknown graph optimisation level.");
        }

        Preprocessing.Validate();
    }
}
