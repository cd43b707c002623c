using System.Runtime.InteropServices;
using System.Text;
using Edge.Inference.Native;
using Edge.Plugin;
using Microsoft.Extensions.Logging;

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
    private OrtHandle? _spareRunOptions;
    private bool _disposed;

    private InferenceSession(OrtHandle session, string source, InferenceSessionOptions options, ExecutionProviderChoice providerChoice)
    {
        _session = session;
        Source = source;
        Options = options;
        ProviderChoice = providerChoice;
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

    /// <summary>The execution provider the session runs on, such as "CPU", "CUDA" or "TensorRT".</summary>
    public string ExecutionProvider => ProviderChoice.Provider;

    /// <summary>The provider in use, each provider skipped on the way and why, and those compiled in.</summary>
    public ExecutionProviderChoice ProviderChoice { get; }

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

        // The environment must exist before any provider append: the append logs through ORT's default
        // logger, and without one it fails with "Attempt to use DefaultLogger but none has been registered"
        // instead of naming the missing library.
        _ = OrtEnvironment.Handle;
        var compiled = OnnxRuntime.CompiledProviders;
        var provider = options.ExecutionProvider;
        var skipped = new List<SkippedProvider>();
        foreach (var candidate in ExecutionProviders.Plan(provider))
        {
            using var nativeOptions = NativeOptions(options);
            var handle = nativeOptions.DangerousGetHandle();
            var reason = ExecutionProviders.TryAppend(handle, candidate, provider, compiled);
            if (reason is not null)
            {
                skipped.Add(new SkippedProvider(candidate.DisplayName, reason));
                continue;
            }

            nint native;
            try
            {
                native = open(handle);
            }
            catch (OnnxRuntimeException e) when (candidate.Kind != ProviderKind.Cpu && !IsModelError(e.ErrorCode))
            {
                // A provider whose library loads can still fail on this machine (no device, driver too old):
                // that is a fallback too, not a reason to stop.
                skipped.Add(new SkippedProvider(candidate.DisplayName, $"the session could not be created on it: {e.Message.Trim()}"));
                continue;
            }

            var session = new OrtHandle(native, OrtRelease.Session);
            try
            {
                var choice = new ExecutionProviderChoice(candidate.DisplayName, skipped, compiled);
                var result = new InferenceSession(session, source, options, choice);
                LogChoice(options, result);
                return result;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        throw new OnnxRuntimeException(
            OrtErrorCode.ExecutionProviderFail,
            $"ExecutionProvider:RequireGpu is set and no GPU provider could run {source}: " +
            string.Join("; ", skipped.Select(s => $"{s.Provider}: {s.Reason}")) +
            $". Compiled into ONNX Runtime {OnnxRuntime.Version} at {OnnxRuntime.LibraryPath}: {string.Join(", ", compiled)}. See docs/inference.md for GPU runtimes.");
    }

    private static bool IsModelError(OrtErrorCode code) =>
        code is OrtErrorCode.InvalidProtobuf or OrtErrorCode.NoSuchFile or OrtErrorCode.NoModel or OrtErrorCode.InvalidGraph;

    private static OrtHandle NativeOptions(InferenceSessionOptions options)
    {
        var nativeOptions = new OrtHandle(OrtApi.CreateSessionOptions(), OrtRelease.SessionOptions);
        try
        {
            var handle = nativeOptions.DangerousGetHandle();
            OrtApi.SetGraphOptimizationLevel(handle, (int)options.GraphOptimization);
            OrtApi.SetExecutionMode(handle, (int)options.ExecutionMode);
            if (options.IntraOpThreads > 0)
            {
                OrtApi.SetIntraOpThreads(handle, options.IntraOpThreads);
            }

            if (options.InterOpThreads > 0)
            {
                OrtApi.SetInterOpThreads(handle, options.InterOpThreads);
            }

            var spin = options.AllowSpinning ? "1" : "0";
            OrtApi.AddSessionConfigEntry(handle, "session.intra_op.allow_spinning", spin);
            OrtApi.AddSessionConfigEntry(handle, "session.inter_op.allow_spinning", spin);
            if (options.ExecutionProvider.RequireGpu)
            {
                OrtApi.AddSessionConfigEntry(handle, "session.disable_cpu_ep_fallback", "1");
            }

            foreach (var (key, value) in options.ConfigEntries)
            {
                OrtApi.AddSessionConfigEntry(handle, key, value);
            }

            if (!string.IsNullOrEmpty(options.OptimizedModelPath))
            {
                OrtApi.SetOptimizedModelFilePath(handle, options.OptimizedModelPath);
            }

            if (!string.IsNullOrEmpty(options.ProfilingPrefix))
            {
                OrtApi.EnableProfiling(handle, options.ProfilingPrefix);
            }

            return nativeOptions;
        }
        catch
        {
            nativeOptions.Dispose();
            throw;
        }
    }

    private static void LogChoice(InferenceSessionOptions options, InferenceSession session)
    {
        var logger = options.Logger;
        if (logger is null)
        {
            return;
        }

        // Falling back from a provider someone asked for by name deserves a warning; Auto landing on
        // the CPU of a CPU-only node is the expected case.
        var asked = ExecutionProviders.Resolve(options.ExecutionProvider.Name).Kind;
        var level = session.ProviderChoice.Skipped.Count > 0 && asked is not ProviderKind.Auto ? LogLevel.Warning : LogLevel.Information;
        if (logger.IsEnabled(level))
        {
            LogProvider(logger, level, session.Source, session.ProviderChoice.ToString());
        }
    }

    [LoggerMessage(Message = "Model {Source} {Choice}")]
    private static partial void LogProvider(ILogger logger, LogLevel level, string source, string choice);

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

    private void RunNative(nint* inputValues, int inputCount, nint* outputValues, int outputCount, CancellationToken cancellationToken) =>
        RunNative(_inputNames.Pointers, inputValues, inputCount, _outputNames.Pointers, outputValues, outputCount, cancellationToken);

    private void RunNative(nint* inputNames, nint* inputValues, int inputCount, nint* outputNames, nint* outputValues, int outputCount, CancellationToken cancellationToken) =>
        RunNative(0, inputNames, inputValues, inputCount, outputNames, outputValues, outputCount, cancellationToken);

    /// <summary>Runs with an IO binding's inputs and outputs.</summary>
    internal void RunBound(nint binding, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        RunNative(binding, null, null, 0, null, null, 0, cancellationToken);
    }

    internal OrtHandle NativeSession => _session;

    /// <summary>Creates an IO binding: inputs and outputs bound once, then runs that allocate nothing.</summary>
    public InferenceBinding CreateBinding()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new InferenceBinding(this);
    }

    private void RunNative(nint binding, nint* inputNames, nint* inputValues, int inputCount, nint* outputNames, nint* outputValues, int outputCount, CancellationToken cancellationToken)
    {
        var addedRef = false;
        _session.DangerousAddRef(ref addedRef);
        OrtHandle? runOptions = null;
        CancellationTokenRegistration registration = default;
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                // One run-options object is kept for reuse; a concurrent run makes its own.
                runOptions = Interlocked.Exchange(ref _spareRunOptions, null) ?? new OrtHandle(OrtApi.CreateRunOptions(), OrtRelease.RunOptions);
                registration = cancellationToken.UnsafeRegister(static state => OrtApi.RunOptionsSetTerminate(((OrtHandle)state!).DangerousGetHandle()), runOptions);
            }

            var status = binding != 0
                ? OrtApi.RunWithBinding(_session.DangerousGetHandle(), runOptions?.DangerousGetHandle() ?? 0, binding)
                : OrtApi.Run(
                    _session.DangerousGetHandle(),
                    runOptions?.DangerousGetHandle() ?? 0,
                    inputNames,
                    inputValues,
                    (nuint)inputCount,
                    outputNames,
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
            // Dispose waits for a callback already running, so the terminate flag is final after it.
            registration.Dispose();
            if (runOptions is not null)
            {
                ReturnRunOptions(runOptions, cancellationToken.IsCancellationRequested);
            }

            if (addedRef)
            {
                _session.DangerousRelease();
            }
        }
    }

    private void ReturnRunOptions(OrtHandle runOptions, bool terminated)
    {
        if (terminated)
        {
            OrtApi.RunOptionsUnsetTerminate(runOptions.DangerousGetHandle());
        }

        if (Interlocked.CompareExchange(ref _spareRunOptions, runOptions, null) is not null)
        {
            runOptions.Dispose();
        }
    }

    /// <summary>
    /// Stops ORT's profiler and returns the path of the trace it wrote (Chrome trace JSON, open it in
    /// chrome://tracing or Perfetto). Only when <see cref="InferenceSessionOptions.ProfilingPrefix"/> was set.
    /// </summary>
    /// <exception cref="InvalidOperationException">Profiling was not enabled for this session.</exception>
    public string EndProfiling()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (string.IsNullOrEmpty(Options.ProfilingPrefix))
        {
            throw new InvalidOperationException("Profiling is off for this session; set InferenceSessionOptions.ProfilingPrefix before loading.");
        }

        return OrtApi.SessionEndProfiling(_session.DangerousGetHandle(), OrtApi.GetDefaultAllocator());
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
            CheckArgument(given[i], expected[i], kind);
        }
    }

    internal static void CheckArgument(Tensor? tensor, TensorInfo info, string kind)
    {
        if (tensor is null)
        {
            throw new ArgumentNullException(nameof(tensor), $"The tensor for {kind} '{info.Name}' is null.");
        }

        if (info.Kind != OnnxValueKind.Tensor)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"{Capitalize(kind)} '{info.Name}' is {info.TypeText}, not a tensor; run the model with OnnxValue inputs (Run(IReadOnlyDictionary<string, OnnxValue>)).");
        }

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

        if (kind == "output" && tensor is StringTensor)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"Output '{info.Name}' holds strings, which the runtime allocates itself; call Run(inputs) and read it from the returned outputs.");
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
            result[i] = DescribeType(name, typeInfo.DangerousGetHandle());
        }

        return result;
    }

    private static TensorInfo DescribeType(string name, nint typeInfo)
    {
        var kind = (OnnxValueKind)OrtApi.GetOnnxType(typeInfo);
        switch (kind)
        {
            case OnnxValueKind.Tensor:
                var tensorInfo = OrtApi.CastToTensorInfo(typeInfo);
                var dims = OrtApi.GetDimensions(tensorInfo);
                return new TensorInfo(name, OrtApi.GetElementType(tensorInfo), dims, OrtApi.GetSymbolicDimensions(tensorInfo, dims.Length));
            case OnnxValueKind.Sequence:
                return Nested(name, kind, OrtApi.GetSequenceElementType(OrtApi.CastToSequenceInfo(typeInfo)), "seq({0})");
            case OnnxValueKind.Optional:
                return Nested(name, kind, OrtApi.GetOptionalContainedType(OrtApi.CastToOptionalInfo(typeInfo)), "optional({0})");
            case OnnxValueKind.Map:
                var map = OrtApi.CastToMapInfo(typeInfo);
                return Nested(name, kind, OrtApi.GetMapValueType(map), $"map({OrtApi.GetMapKeyType(map)},{{0}})");
            default:
                return new TensorInfo(name, TensorElementType.Undefined, [], []) { Kind = OnnxValueKind.Unknown, NestedTypeText = $"ONNX type {(int)kind}" };
        }
    }

    private static TensorInfo Nested(string name, OnnxValueKind kind, nint innerTypeInfo, string format)
    {
        using var owned = new OrtHandle(innerTypeInfo, OrtRelease.TypeInfo);
        var inner = DescribeType(name, innerTypeInfo);
        return inner with { Kind = kind, NestedTypeText = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, inner.TypeText) };
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
    public string Describe() => Describe(withSkipped: true);

    /// <summary>
    /// The description, optionally without the skipped providers: a session loaded with a logger has
    /// already logged those (see <see cref="InferenceSessionOptions.Logger"/>), and once is enough.
    /// </summary>
    internal string Describe(bool withSkipped)
    {
        var text = new StringBuilder();
        text.Append($"model {Source} on {ExecutionProvider}");
        foreach (var skipped in withSkipped ? ProviderChoice.Skipped : Array.Empty<SkippedProvider>())
        {
            text.Append($" (skipped {skipped.Provider}: {skipped.Reason})");
        }

        text.Append($"; providers compiled in: {string.Join(", ", ProviderChoice.Compiled)}; inputs {string.Join(", ", Inputs)}; outputs {string.Join(", ", Outputs)}");
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

        Interlocked.Exchange(ref _spareRunOptions, null)?.Dispose();
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
