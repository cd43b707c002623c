namespace Edge.Inference;

/// <summary>ONNX Runtime's own error codes, as returned by <c>OrtGetErrorCode</c>.</summary>
public enum OrtErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,

    /// <summary>A general failure.</summary>
    Fail = 1,

    /// <summary>An argument was invalid: a wrong shape, type or name.</summary>
    InvalidArgument = 2,

    /// <summary>A file did not exist.</summary>
    NoSuchFile = 3,

    /// <summary>No model was loaded.</summary>
    NoModel = 4,

    /// <summary>An execution engine failed.</summary>
    EngineError = 5,

    /// <summary>An exception was raised inside the runtime, including a cancelled run.</summary>
    RuntimeException = 6,

    /// <summary>The model file is not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,

    /// <summary>The model was already loaded.</summary>
    ModelLoaded = 8,

    /// <summary>The operation is not implemented by this runtime build.</summary>
    NotImplemented = 9,

    /// <summary>The model's graph is invalid.</summary>
    InvalidGraph = 10,

    /// <summary>An execution provider failed.</summary>
    ExecutionProviderFail = 11,
}

/// <summary>An error raised by ONNX Runtime or by this binding's checks around it.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>Creates an exception with ONNX Runtime's code and message.</summary>
    public OnnxRuntimeException(OrtErrorCode code, string message)
        : base(message)
    {
        ErrorCode = code;
    }

    /// <summary>Creates an exception with a message and no specific code.</summary>
    public OnnxRuntimeException(string message)
        : this(OrtErrorCode.Fail, message)
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public OnnxRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = OrtErrorCode.Fail;
    }

    /// <summary>Creates an exception with no message.</summary>
    public OnnxRuntimeException()
        : this(OrtErrorCode.Fail, "ONNX Runtime failed.")
    {
    }

    /// <summary>The runtime's error code.</summary>
    public OrtErrorCode ErrorCode { get; }
}
