using System.Runtime.InteropServices;
using System.Text;
using Edge.Inference.Native;
using Edge.Plugin;

namespace Edge.Inference;

/// <summary>
/// A loaded ONNX model, ready to run. Loading describes every input and output once; each run
/// then passes pinned tensors straight to ONNX Runtime.
/// </summary>
public sealed unsafe partial class InferenceSession : IDisposable
{
    private readonly OrtHandle _session;
    private readonly NativeNames _inputNames;
    private readonly NativeNames _outputNames;
    private readonly Lock _frameGate = new();
    private FrameRunner? _frameRunner;
    private bool _disposed;

    private InferenceSession(OrtHandle session, string source, InferenceSessionOptions options, string executionProvider)
    {
        _session = session;
        Source = source;
        Options = options;
        ExecutionProvider = executionProvider;
        var allocator = OrtApi.GetDefaultAllocator();
        Inputs = Describe(session.DangerousGetHandle(), input: true, allocator);
        Outputs = Describe(session.DangerousGetHandle(), input: false, allocator);
        Metadata = ReadMetadata(session.DangerousGetHandle(), allocator);
        Labels = ModelLabels.Parse(Metadata.CustomMetadata);
        _inputNames = new NativeNames(Inputs.Select(i => i.Name));
        _outputNames = new NativeNames(Outputs.Select(o => o.Name));
    }

    /// <summary>Where the model came from: a file path, or "(bytes)".</summary>
    public string Source { get; }

    /// <summary>The options the session was created with.</summary>
    public InferenceSessionOptions Options { get; }

    /// <summary>The execution provider the session runs on, such as "CPU".</summary>
    public string ExecutionProvider { get; }

    /// <summary>The model's inputs, in graph order.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The model's outputs, in graph order.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>The model's metadata.</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>Class labels stored in the model's metadata under "labels"; empty when there are none.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Loads a model from a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxRuntimeException">The runtime is missing or rejects the model.</exception>
    public static InferenceSession Load(string modelPath, InferenceSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"Model file not found: {Path.GetFullPath(modelPath)}", modelPath);
        }

        options ??= new InferenceSessionOptions();
        return Create(options, nativeOptions =>
        {
            try
            {
                return OrtApi.CreateSession(OrtEnvironment.Handle, modelPath, nativeOptions);
            }
            catch (OnnxRuntimeException e)
            {
                throw new OnnxRuntimeException(e.ErrorCode, $"Model {modelPath} could not be loaded: {e.Message}");
            }
        }, Path.GetFullPath(modelPath));
    }

    /// <summary>Loads a model from its serialized bytes.</summary>
    public static InferenceSession Load(ReadOnlySpan<byte> model, InferenceSessionOptions? options = null)
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException("The model is empty (0 bytes).", nameof(model));
        }

        options ??= new InferenceSessionOptions();
        var bytes = model.ToArray();
        return Create(options, nativeOptions => OrtApi.CreateSessionFromArray(OrtEnvironment.Handle, bytes, nativeOptions), "(bytes)");
    }

    private static InferenceSession Create(InferenceSessionOptions options, Func<nint, nint> open, string source)
    {
        options.Validate();
        using var nativeOptions = new OrtHandle(OrtApi.CreateSessionOptions(), OrtRelease.SessionOptions);
        var handle = nativeOptions.DangerousGetHandle();
        OrtApi.SetGraphOptimizationLevel(handle, (int)options.GraphOptimization);
        if (options.IntraOpThreads > 0)
        {
            OrtApi.SetIntraOpThreads(handle, options.IntraOpThreads);
        }

        if (options.InterOpThreads > 0)
        {
            OrtApi.SetInterOpThreads(handle, options.InterOpThreads);
        }

        var session = new OrtHandle(open(handle), OrtRelease.Session);
        try
        {
            return new InferenceSession(session, source, options, "CPU");
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on tensors given in the model's input order, writing into output tensors
    /// given in the model's output order. With tensors made once and reused, a run allocates nothing.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">A tensor does not match the model, or the run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public void Run(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<Tensor> outputs, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckArguments(inputs, Inputs, "input");
        CheckArguments(outputs, Outputs, "output");
        cancellationToken.ThrowIfCancellationRequested();

        var inputValues = stackalloc nint[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputValues[i] = inputs[i].GetValueHandle();
        }

        var outputValues = stackalloc nint[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputValues[i] = outputs[i].GetValueHandle();
        }

        RunNative(inputValues, inputs.Length, outputValues, outputs.Length, cancellationToken);
    }

    private void RunNative(nint* inputValues, int inputCount, nint* outputValues, int outputCount, CancellationToken cancellationToken)
    {
        var addedRef = false;
        _session.DangerousAddRef(ref addedRef);
        OrtHandle? runOptions = null;
        CancellationTokenRegistration registration = default;
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                runOptions = new OrtHandle(OrtApi.CreateRunOptions(), OrtRelease.RunOptions);
                var options = runOptions.DangerousGetHandle();
                registration = cancellationToken.UnsafeRegister(static state => OrtApi.RunOptionsSetTerminate((nint)state!), options);
            }

            var status = OrtApi.Run(
                _session.DangerousGetHandle(),
                runOptions?.DangerousGetHandle() ?? 0,
                _inputNames.Pointers,
                inputValues,
                (nuint)inputCount,
                _outputNames.Pointers,
                (nuint)outputCount,
                outputValues);
            if (status != 0)
            {
                var error = OrtApi.ToException(status);
                cancellationToken.ThrowIfCancellationRequested();
                throw new OnnxRuntimeException(error.ErrorCode, $"Running {Source} failed: {error.Message}");
            }
        }
        finally
        {
            registration.Dispose();
            runOptions?.Dispose();
            if (addedRef)
            {
                _session.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Runs an image model on a frame: resizes, converts and normalises the pixels straight into the
    /// session's input tensor (see <see cref="InferenceSessionOptions.Preprocessing"/>), then runs.
    /// The result is valid until the next frame run on this session.
    /// </summary>
    public InferenceResult Run(Frame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_frameGate)
        {
            _frameRunner ??= new FrameRunner(this);
            _frameRunner.Prepare(frame);
            Run(_frameRunner.InputSpan, _frameRunner.OutputSpan, cancellationToken);
            return _frameRunner.Result;
        }
    }

    private static void CheckArguments(ReadOnlySpan<Tensor> given, IReadOnlyList<TensorInfo> expected, string kind)
    {
        if (given.Length != expected.Count)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"The model has {expected.Count} {kind}(s) ({string.Join(", ", expected)}); {given.Length} were given.");
        }

        for (var i = 0; i < given.Length; i++)
        {
            var tensor = given[i] ?? throw new ArgumentNullException(nameof(given), $"The tensor for {kind} '{expected[i].Name}' is null.");
            var info = expected[i];
            if (tensor.ElementType != info.ElementType)
            {
                throw new OnnxRuntimeException(
                    OrtErrorCode.InvalidArgument,
                    $"{Capitalize(kind)} '{info.Name}' expects element type {info.ElementType}{info.ShapeText}; the tensor given is {tensor}.");
            }

            if (!ShapeFits(tensor.Shape, info.Shape))
            {
                throw new OnnxRuntimeException(
                    OrtErrorCode.InvalidArgument,
                    $"{Capitalize(kind)} '{info.Name}' expects shape {info.ShapeText}; the tensor given has shape {TensorInfo.FormatShape(tensor.ShapeArray)}.");
            }
        }
    }

    private static string Capitalize(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    internal static bool ShapeFits(ReadOnlySpan<long> actual, IReadOnlyList<long> expected)
    {
        if (actual.Length != expected.Count)
        {
            return false;
        }

        for (var i = 0; i < actual.Length; i++)
        {
            if (expected[i] >= 0 && expected[i] != actual[i])
            {
                return false;
            }
        }

        return true;
    }

    private static TensorInfo[] Describe(nint session, bool input, nint allocator)
    {
        var count = (int)(input ? OrtApi.SessionInputCount(session) : OrtApi.SessionOutputCount(session));
        var result = new TensorInfo[count];
        for (var i = 0; i < count; i++)
        {
            var name = OrtApi.SessionName(session, (nuint)i, input, allocator);
            using var typeInfo = new OrtHandle(OrtApi.SessionTypeInfo(session, (nuint)i, input), OrtRelease.TypeInfo);
            var onnxType = OrtApi.GetOnnxType(typeInfo.DangerousGetHandle());
            if (onnxType != 1 /* ONNX_TYPE_TENSOR */)
            {
                result[i] = new TensorInfo(name, TensorElementType.Undefined, [], []);
                continue;
            }

            var tensorInfo = OrtApi.CastToTensorInfo(typeInfo.DangerousGetHandle());
            var dims = OrtApi.GetDimensions(tensorInfo);
            result[i] = new TensorInfo(name, OrtApi.GetElementType(tensorInfo), dims, OrtApi.GetSymbolicDimensions(tensorInfo, dims.Length));
        }

        return result;
    }

    private static ModelMetadata ReadMetadata(nint session, nint allocator)
    {
        using var metadata = new OrtHandle(OrtApi.SessionGetModelMetadata(session), OrtRelease.ModelMetadata);
        var handle = metadata.DangerousGetHandle();
        return new ModelMetadata(
            ProducerName: OrtApi.ModelMetadataString(handle, 112, allocator),
            GraphName: OrtApi.ModelMetadataString(handle, 113, allocator),
            Domain: OrtApi.ModelMetadataString(handle, 114, allocator),
            Description: OrtApi.ModelMetadataString(handle, 115, allocator),
            Version: OrtApi.ModelMetadataVersion(handle),
            CustomMetadata: OrtApi.ModelMetadataCustomMap(handle, allocator));
    }

    /// <summary>A one-line description for start-up logs.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append($"model {Source} on {ExecutionProvider}; inputs {string.Join(", ", Inputs)}; outputs {string.Join(", ", Outputs)}");
        if (Labels.Count > 0)
        {
            text.Append($"; {Labels.Count} labels");
        }

        return text.ToString();
    }

    /// <summary>Releases the native session and every tensor the session made.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_frameGate)
        {
            _frameRunner?.Dispose();
        }

        _session.Dispose();
        _inputNames.Dispose();
        _outputNames.Dispose();
    }

    /// <summary>Names as native UTF-8 strings, made once so a run does not marshal them.</summary>
    private sealed class NativeNames : IDisposable
    {
        private readonly OrtApi.Utf8[] _strings;

        public NativeNames(IEnumerable<string> names)
        {
            _strings = [.. names.Select(n => new OrtApi.Utf8(n))];
            Pointers = (nint*)NativeMemory.Alloc((nuint)Math.Max(_strings.Length, 1), (nuint)sizeof(nint));
            for (var i = 0; i < _strings.Length; i++)
            {
                Pointers[i] = (nint)_strings[i].Pointer;
            }
        }

        public nint* Pointers { get; }

        public void Dispose()
        {
            foreach (var s in _strings)
            {
                s.Dispose();
            }

            NativeMemory.Free(Pointers);
        }
    }
}
