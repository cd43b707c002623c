namespace Edge.Inference;

/// <summary>
/// A model, tensor or runtime problem found by Edge.Inference, with a message that names the model,
/// the input or output, and what was expected. ONNX Runtime's own
/// <c>Microsoft.ML.OnnxRuntime.OnnxRuntimeException</c>, where there was one, is the inner exception.
/// </summary>
public sealed class InferenceException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public InferenceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception wrapping the runtime's own.</summary>
    public InferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public InferenceException()
        : base("Inference failed.")
    {
    }
}
