using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>
/// Inputs and outputs bound to a session once (ONNX Runtime's IO binding), so each <see cref="Run"/>
/// passes no names or values at all: with tensors bound and no cancellation token, a run allocates
/// no managed memory. Bind again to swap a tensor; the binding keeps every bound tensor alive.
/// Not thread-safe: use one binding per thread. Make it with <see cref="InferenceSession.CreateBinding"/>.
/// </summary>
public sealed unsafe class InferenceBinding : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtHandle _binding;
    private readonly Dictionary<string, Tensor> _inputs = new(StringComparer.Ordinal);
    private readonly List<string> _outputOrder = [];
    private readonly Dictionary<string, Tensor?> _outputs = new(StringComparer.Ordinal);
    private bool _sessionRef;

    internal InferenceBinding(InferenceSession session)
    {
        _session = session;

        // ORT's binding refers to its session; the reference keeps the native session alive until the binding goes.
        session.NativeSession.DangerousAddRef(ref _sessionRef);
        try
        {
            _binding = new OrtHandle(OrtApi.CreateIoBinding(session.NativeSession.DangerousGetHandle()), OrtRelease.IoBinding);
        }
        catch
        {
            session.NativeSession.DangerousRelease();
            throw;
        }
    }

    /// <summary>Binds a model input to a tensor; later runs read it in place.</summary>
    /// <exception cref="OnnxRuntimeException">The model has no such input, or the tensor's type or shape does not fit it.</exception>
    public void BindInput(string name, Tensor tensor)
    {
        var info = Find(_session.Inputs, name, "input");
        InferenceSession.CheckArgument(tensor, info, "input");
        using var native = new OrtApi.Utf8(name);
        OrtApi.BindInput(Handle, native.Pointer, tensor.GetValueHandle());
        _inputs[name] = tensor;
    }

    /// <summary>Binds a model output to a tensor that each run writes into.</summary>
    /// <exception cref="OnnxRuntimeException">The model has no such output, or the tensor's type or shape does not fit it.</exception>
    public void BindOutput(string name, Tensor tensor)
    {
        var info = Find(_session.Outputs, name, "output");
        InferenceSession.CheckArgument(tensor, info, "output");
        using var native = new OrtApi.Utf8(name);
        OrtApi.BindOutput(Handle, native.Pointer, tensor.GetValueHandle());
        Remember(name, tensor);
    }

    /// <summary>
    /// Binds a model output for the runtime to allocate in CPU memory at each run: for shapes only the
    /// run knows and for strings. Read it with <see cref="GetOutputs"/>; such runs do allocate.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">The model has no such output.</exception>
    public void BindOutputToCpu(string name)
    {
        Find(_session.Outputs, name, "output");
        using var native = new OrtApi.Utf8(name);
        OrtApi.BindOutputToDevice(Handle, native.Pointer, OrtEnvironment.CpuMemoryInfo);
        Remember(name, null);
    }

    /// <summary>Runs the session on the bound values.</summary>
    /// <exception cref="OnnxRuntimeException">An input or output is not bound, or the run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public void Run(CancellationToken cancellationToken = default) => _session.RunBound(Handle, cancellationToken);

    /// <summary>
    /// The outputs of the last run, in the order they were first bound, as new tensors that share the
    /// runtime's memory (bound tensors' data included); dispose them when done.
    /// </summary>
    public SessionOutputs GetOutputs()
    {
        var values = OrtApi.GetBoundOutputValues(Handle);
        var tensors = new Tensor[values.Length];
        var infos = new TensorInfo[values.Length];
        var made = 0;
        try
        {
            for (; made < values.Length; made++)
            {
                var name = _outputOrder[made];
                infos[made] = Find(_session.Outputs, name, "output");
                tensors[made] = RuntimeTensors.Wrap(values[made], name);
            }
        }
        catch
        {
            for (var i = 0; i < made; i++)
            {
                tensors[i].Dispose();
            }

            for (var i = made + 1; i < values.Length; i++)
            {
                OrtApi.Release(OrtRelease.Value, values[i]);
            }

            throw;
        }

        return new SessionOutputs(tensors, infos);
    }

    /// <summary>Unbinds every input (the tensors are no longer kept alive by this binding).</summary>
    public void ClearInputs()
    {
        OrtApi.ClearBound(Handle, inputs: true);
        _inputs.Clear();
    }

    /// <summary>Unbinds every output.</summary>
    public void ClearOutputs()
    {
        OrtApi.ClearBound(Handle, inputs: false);
        _outputs.Clear();
        _outputOrder.Clear();
    }

    /// <summary>Releases the native binding; bound tensors stay yours.</summary>
    public void Dispose()
    {
        if (_binding.IsClosed)
        {
            return;
        }

        _binding.Dispose();
        if (_sessionRef)
        {
            _sessionRef = false;
            _session.NativeSession.DangerousRelease();
        }
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_binding.IsClosed, this);
            return _binding.DangerousGetHandle();
        }
    }

    private void Remember(string name, Tensor? tensor)
    {
        if (!_outputs.ContainsKey(name))
        {
            _outputOrder.Add(name);
        }

        _outputs[name] = tensor;
    }

    private static TensorInfo Find(IReadOnlyList<TensorInfo> infos, string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var info in infos)
        {
            if (info.Name == name)
            {
                return info;
            }
        }

        throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument, $"The model has no {kind} '{name}'; its {kind}s are {string.Join(", ", infos)}.");
    }
}
