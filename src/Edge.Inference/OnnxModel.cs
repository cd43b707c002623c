using System.Text;
using Edge.Plugin;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference;

/// <summary>
/// A loaded ONNX model, ready to run: ONNX Runtime's <see cref="InferenceSession"/> on the execution
/// provider chosen for this machine, described once, with frame preprocessing and cancellation
/// around it. Whatever this type does not wrap, <see cref="Session"/> offers.
/// </summary>
public sealed partial class OnnxModel : IDisposable, IFrameConsumerCheck
{
    private readonly Lock _frameGate = new();
    private FrameRunner? _frameRunner;
    private string? _framesRefused;
    private RunOptions? _spareRunOptions;
    private TokenRunOptions? _tokenRunOptions;
    private bool _disposed;

    private OnnxModel(InferenceSession session, string source, OnnxModelOptions options, ExecutionProviderChoice providerChoice)
    {
        Session = session;
        Source = source;
        Options = options;
        ProviderChoice = providerChoice;
        Inputs = [.. session.InputNames.Select(n => TensorInfo.From(n, session.InputMetadata[n]))];
        Outputs = [.. session.OutputNames.Select(n => TensorInfo.From(n, session.OutputMetadata[n]))];
        Metadata = session.ModelMetadata;
        Labels = ModelLabels.Parse(Metadata.CustomMetadataMap);
    }

    /// <summary>ONNX Runtime's session under this model: IO binding, LoRA adapters, whatever is not wrapped here.</summary>
    public InferenceSession Session { get; }

    /// <summary>Where the model came from: a file path, or "(bytes)".</summary>
    public string Source { get; }

    /// <summary>The options the model was loaded with.</summary>
    public OnnxModelOptions Options { get; }

    /// <summary>The execution provider the model runs on, such as "CPU", "CUDA" or "TensorRT".</summary>
    public string ExecutionProvider => ProviderChoice.Provider;

    /// <summary>The provider in use, each provider skipped on the way and why, and those compiled in.</summary>
    public ExecutionProviderChoice ProviderChoice { get; }

    /// <summary>The model's inputs, in graph order.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The model's outputs, in graph order.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>What the model file says about itself.</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>Class labels stored in the model's metadata under "labels"; empty when there are none.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Loads a model from a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The path is no regular file (a FIFO, a device, a folder), or the file is over <see cref="OnnxModelOptions.MaxModelBytes"/>.</exception>
    /// <exception cref="InferenceException">The runtime is missing, or rejects the model; the message names the file.</exception>
    public static OnnxModel Load(string modelPath, OnnxModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new OnnxModelOptions();
        // The runtime opens the path itself: a FIFO would hang it and a device would fill memory.
        _ = RegularFile.Check(modelPath, "Model file", options.MaxModelBytes, MaxModelBytesSetting);
        var source = Path.GetFullPath(modelPath);
        return Create(options, sessionOptions => new InferenceSession(modelPath, sessionOptions), source);
    }

    /// <summary>Loads a model from its serialized bytes.</summary>
    /// <exception cref="InferenceException">The runtime is missing, or rejects the model.</exception>
    public static OnnxModel Load(ReadOnlySpan<byte> model, OnnxModelOptions? options = null)
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException("The model is empty (0 bytes).", nameof(model));
        }

        var bytes = model.ToArray();
        return Create(options ?? new OnnxModelOptions(), sessionOptions => new InferenceSession(bytes, sessionOptions), "(bytes)");
    }

    // How a refused model's message names the limit: the configuration key and its environment variable.
    private const string MaxModelBytesSetting = "Inference:MaxModelBytes (environment Inference__MaxModelBytes)";

    private static OnnxModel Create(OnnxModelOptions options, Func<SessionOptions, InferenceSession> open, string source)
    {
        options.Validate();
        OnnxRuntimeLibrary.EnsureLoaded();
        var compiled = OrtEnv.Instance().GetAvailableProviders();
        var asked = ExecutionProviders.Resolve(options.ExecutionProvider.Name).Kind;
        var skipped = new List<SkippedProvider>();
        foreach (var candidate in ExecutionProviders.Plan(options.ExecutionProvider))
        {
            using var sessionOptions = SessionOptionsFor(options);
            if (ExecutionProviders.TryAppend(sessionOptions, candidate, options.ExecutionProvider, compiled) is { } skip)
            {
                skipped.Add(skip);
                continue;
            }

            if (candidate.Kind == ProviderKind.TensorRt && asked == ProviderKind.Auto)
            {
                // ONNX Runtime's advice: CUDA behind TensorRT in the same session takes the nodes
                // TensorRT refuses, which would otherwise fall to the CPU. Where CUDA cannot attach,
                // TensorRT runs with the CPU behind it, as before.
                _ = ExecutionProviders.TryAppend(sessionOptions, ExecutionProviders.Resolve("CUDA"), options.ExecutionProvider, compiled);
            }

            options.ConfigureSession?.Invoke(sessionOptions);
            InferenceSession session;
            try
            {
                session = open(sessionOptions);
            }
            catch (OnnxRuntimeException e) when (candidate.Kind != ProviderKind.Cpu && !IsModelError(e))
            {
                // A provider whose libraries load can still fail on this machine (no device, driver too
                // old): that is a fallback too, not a reason to stop.
                var error = OrtLog.Shorten(e.Message);
                skipped.Add(new SkippedProvider(candidate.DisplayName, $"could not start: {error}", error));
                continue;
            }
            catch (OnnxRuntimeException e)
            {
                throw new InferenceException($"Model {source} could not be loaded: {OrtLog.Shorten(e.Message)}", e);
            }

            try
            {
                var model = new OnnxModel(session, source, options, new ExecutionProviderChoice(candidate.DisplayName, skipped, compiled));
                LogChoice(options.Logger, asked, model);
                return model;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        throw new InferenceException(
            $"ExecutionProvider:RequireGpu is set and no GPU provider could run {source}: {string.Join("; ", skipped.Select(s => $"{s.Provider}: {s.Detail}"))}. " +
            $"ONNX Runtime {OnnxRuntimeLibrary.Version} at {OnnxRuntimeLibrary.LibraryPath} has {string.Join(", ", compiled)}. See docs/inference.md for GPU runtimes.");
    }

    private static bool IsModelError(OnnxRuntimeException e) =>
        OrtLog.ErrorCode(e) is "InvalidProtobuf" or "NoSuchFile" or "NoModel" or "InvalidGraph" or "ModelLoaded";

    private static SessionOptions SessionOptionsFor(OnnxModelOptions options)
    {
        var sessionOptions = new SessionOptions();
        try
        {
            sessionOptions.GraphOptimizationLevel = options.GraphOptimization switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            sessionOptions.ExecutionMode = options.OperatorScheduling == OperatorScheduling.Parallel ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL;
            if (options.IntraOpThreads > 0)
            {
                sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
            }

            if (options.InterOpThreads > 0)
            {
                sessionOptions.InterOpNumThreads = options.InterOpThreads;
            }

            var spin = options.AllowSpinning ? "1" : "0";
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
            sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);
            if (options.ExecutionProvider.RequireGpu)
            {
                sessionOptions.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
            }

            foreach (var (key, value) in options.ConfigEntries)
            {
                sessionOptions.AddSessionConfigEntry(key, value);
            }

            if (!string.IsNullOrEmpty(options.OptimizedModelPath))
            {
                sessionOptions.OptimizedModelFilePath = options.OptimizedModelPath;
            }

            if (!string.IsNullOrEmpty(options.ProfilingPrefix))
            {
                // The prefix is read when profiling is switched on, so it comes first.
                sessionOptions.ProfileOutputPathPrefix = options.ProfilingPrefix;
                sessionOptions.EnableProfiling = true;
            }

            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    private static void LogChoice(ILogger? logger, ProviderKind asked, OnnxModel model)
    {
        if (logger is null)
        {
            return;
        }

        // Falling back from a provider someone asked for by name deserves a warning; Auto landing on
        // the CPU of a CPU-only node is the expected case, and one short line says why.
        var level = model.ProviderChoice.Skipped.Count > 0 && asked is not ProviderKind.Auto ? LogLevel.Warning : LogLevel.Information;
        if (logger.IsEnabled(level))
        {
            LogProvider(logger, level, model.Source, model.ProviderChoice.ToString());
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            foreach (var skipped in model.ProviderChoice.Skipped)
            {
                LogSkipDetail(logger, skipped.Provider, skipped.Detail);
            }
        }
    }

    [LoggerMessage(Message = "Model {Source} {Choice}")]
    private static partial void LogProvider(ILogger logger, LogLevel level, string source, string choice);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Provider} skipped: {Detail}")]
    private static partial void LogSkipDetail(ILogger logger, string provider, string detail);

    /// <summary>
    /// Runs an image model on a frame: resizes, converts and normalises the pixels straight into the
    /// model's input tensor (see <see cref="OnnxModelOptions.Preprocessing"/>), then runs through an IO
    /// binding made once. A steady stream of same-sized frames allocates no managed memory.
    /// Frames of every <see cref="PixelFormat"/> feed a colour (3-channel) or grey (1-channel) input:
    /// grey frames fill every colour channel, colour frames give a grey model their luma, and 16-bit
    /// grey is brought to 0-255 as <see cref="ImagePreprocessing.Gray16"/> says.
    /// Frame runs on one model take turns, and share one result: it is valid until the next frame run
    /// on this model, so read it before another thread runs a frame (or give each thread its model).
    /// </summary>
    /// <exception cref="InferenceException">
    /// The model cannot take frames (not one float or uint8 input of rank 4 with 1 or 3 channels, or
    /// outputs that are not float tensors of fixed shape), or the run failed.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public InferenceResult Run(Frame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_frameGate)
        {
            // Dispose may have run while this call waited for the gate.
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_frameRunner is null)
            {
                try
                {
                    _frameRunner = new FrameRunner(this);
                }
                catch (InferenceException e)
                {
                    // Whether a model can take frames depends on the model and its options alone, so
                    // every later frame would fail the same way: the host ends the run on hearing it.
                    _framesRefused = e.Message;
                    throw;
                }
            }

            _frameRunner.Prepare(frame);
            Run(_frameRunner.Binding, cancellationToken);
            return _frameRunner.Result;
        }
    }

    string? IFrameConsumerCheck.FramesRefused => Volatile.Read(ref _framesRefused);

    /// <summary>Runs on values bound to an IO binding of <see cref="Session"/>, with cancellation and this model's error messages.</summary>
    /// <exception cref="InferenceException">The run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public void Run(OrtIoBinding binding, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(binding);
        ObjectDisposedException.ThrowIf(_disposed, this);
        WithRunOptions(binding, static (session, options, binding) => session.RunWithBinding(options, binding), cancellationToken);
    }

    /// <summary>
    /// Runs the model on inputs given by name; the runtime allocates every output. An optional input
    /// holding nothing is left out of the dictionary.
    /// </summary>
    /// <returns>The outputs, in the model's output order; dispose them when done.</returns>
    /// <exception cref="InferenceException">An input name is unknown or missing, a tensor does not fit the model, or the run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyDictionary<string, OrtValue> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var (name, value) in inputs)
        {
            var info = Find(Inputs, name, "input");
            ArgumentNullException.ThrowIfNull(value, name);
            if (info.Kind == OnnxValueType.ONNX_TYPE_TENSOR)
            {
                CheckTensor(value, info, "input");
            }
        }

        var missing = Inputs.Where(i => i.Kind != OnnxValueType.ONNX_TYPE_OPTIONAL && !inputs.ContainsKey(i.Name)).ToArray();
        if (missing.Length > 0)
        {
            throw new InferenceException(
                $"Model {Source}: input(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} not given; it needs {string.Join(", ", Inputs)}.");
        }

        var outputNames = Session.OutputNames;
        return WithRunOptions(inputs, (session, options, given) => session.Run(options, given, outputNames), cancellationToken);
    }

    /// <summary>
    /// Stops ORT's profiler and returns the path of the trace it wrote (Chrome trace JSON, open it in
    /// chrome://tracing or Perfetto). Only when <see cref="OnnxModelOptions.ProfilingPrefix"/> was set.
    /// </summary>
    /// <exception cref="InvalidOperationException">Profiling was not enabled for this model.</exception>
    public string EndProfiling()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (string.IsNullOrEmpty(Options.ProfilingPrefix))
        {
            throw new InvalidOperationException("Profiling is off for this model; set OnnxModelOptions.ProfilingPrefix before loading.");
        }

        try
        {
            return Session.EndProfiling();
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"Ending the profile of {Source} failed: {OrtLog.Shorten(e.Message)}", e);
        }
    }

    /// <summary>
    /// Runs with a run-options object whose terminate flag the token sets. A plugin passes the same
    /// stopping token frame after frame, so the run options stay registered with the last token seen
    /// and a steady run neither registers nor allocates; a concurrent run, or one with another token,
    /// makes its own.
    /// </summary>
    private TResult WithRunOptions<TState, TResult>(TState state, Func<InferenceSession, RunOptions, TState, TResult> run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!cancellationToken.CanBeCanceled)
        {
            var plain = Interlocked.Exchange(ref _spareRunOptions, null) ?? new RunOptions();
            try
            {
                return run(Session, plain, state);
            }
            catch (OnnxRuntimeException e)
            {
                throw RunFailed(e);
            }
            finally
            {
                if (Interlocked.CompareExchange(ref _spareRunOptions, plain, null) is not null)
                {
                    plain.Dispose();
                }
            }
        }

        var bound = Interlocked.Exchange(ref _tokenRunOptions, null);
        if (bound is null || bound.Token != cancellationToken)
        {
            bound?.Dispose();
            bound = new TokenRunOptions(cancellationToken);
        }

        try
        {
            return run(Session, bound.Options, state);
        }
        catch (OnnxRuntimeException e)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw RunFailed(e);
        }
        finally
        {
            // A cancelled token stays cancelled: its run options, terminated for good, go with it.
            if (cancellationToken.IsCancellationRequested || Interlocked.CompareExchange(ref _tokenRunOptions, bound, null) is not null)
            {
                bound.Dispose();
            }
        }
    }

    private InferenceException RunFailed(OnnxRuntimeException e) => new($"Running {Source} failed: {OrtLog.Shorten(e.Message)}", e);

    private void WithRunOptions(OrtIoBinding binding, Action<InferenceSession, RunOptions, OrtIoBinding> run, CancellationToken cancellationToken) =>
        WithRunOptions((binding, run), static (session, options, state) =>
        {
            state.run(session, options, state.binding);
            return true;
        }, cancellationToken);

    /// <summary>Checks a tensor against what the model declares, naming both.</summary>
    internal void CheckTensor(OrtValue value, TensorInfo info, string kind)
    {
        if (!value.IsTensor)
        {
            throw new InferenceException($"Model {Source}: {kind} '{info.Name}' is {info.TypeText}; the value given is a {value.OnnxType}.");
        }

        var shape = value.GetTensorTypeAndShape();
        if (shape.ElementDataType != info.ElementType)
        {
            throw new InferenceException($"Model {Source}: {kind} '{info.Name}' expects {info.TypeText}; the tensor given is {shape.ElementDataType}{TensorInfo.FormatShape(shape.Shape)}.");
        }

        if (!ShapeFits(shape.Shape, info.Shape))
        {
            throw new InferenceException($"Model {Source}: {kind} '{info.Name}' expects shape {info.ShapeText}; the tensor given has shape {TensorInfo.FormatShape(shape.Shape)}.");
        }
    }

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

    private TensorInfo Find(IReadOnlyList<TensorInfo> infos, string name, string kind)
    {
        foreach (var info in infos)
        {
            if (info.Name == name)
            {
                return info;
            }
        }

        throw new InferenceException($"Model {Source} has no {kind} '{name}'; its {kind}s are {string.Join(", ", infos)}.");
    }

    /// <summary>A one-line description for start-up logs.</summary>
    public string Describe() => Describe(withSkipped: true);

    /// <summary>
    /// The description, optionally without the skipped providers: a model loaded with a logger has
    /// already logged those (see <see cref="OnnxModelOptions.Logger"/>), and once is enough.
    /// </summary>
    internal string Describe(bool withSkipped)
    {
        var text = new StringBuilder();
        text.Append($"model {Source} on {ExecutionProvider}");
        foreach (var skipped in withSkipped ? ProviderChoice.Skipped : [])
        {
            text.Append($" (skipped {skipped})");
        }

        text.Append($"; inputs {string.Join(", ", Inputs)}; outputs {string.Join(", ", Outputs)}");
        if (Labels.Count > 0)
        {
            text.Append($"; {Labels.Count} labels");
        }

        return text.ToString();
    }

    /// <summary>
    /// Releases the runtime's session and every tensor the model made. Frame runs waiting their turn
    /// then fail with <see cref="ObjectDisposedException"/>; other runs must have ended (ReloadableModel
    /// disposes a model only once its last lease is done).
    /// </summary>
    public void Dispose()
    {
        lock (_frameGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _frameRunner?.Dispose();
            _frameRunner = null;
        }

        Interlocked.Exchange(ref _spareRunOptions, null)?.Dispose();
        Interlocked.Exchange(ref _tokenRunOptions, null)?.Dispose();
        Session.Dispose();
    }

    /// <summary>Run options whose terminate flag one token sets, for as long as they are kept.</summary>
    private sealed class TokenRunOptions : IDisposable
    {
        private readonly CancellationTokenRegistration _registration;

        public TokenRunOptions(CancellationToken token)
        {
            Token = token;
            _registration = token.UnsafeRegister(static options => ((RunOptions)options!).Terminate = true, Options);
        }

        public RunOptions Options { get; } = new();

        public CancellationToken Token { get; }

        public void Dispose()
        {
            // Dispose waits for a callback already running, so nothing touches the options after it.
            _registration.Dispose();
            Options.Dispose();
        }
    }
}
