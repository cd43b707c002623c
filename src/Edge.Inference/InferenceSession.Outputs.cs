namespace Edge.Inference;

// Runs whose outputs ONNX Runtime allocates: for outputs whose shape only the run knows, string
// outputs, and callers who would rather not make output tensors themselves.
public sealed unsafe partial class InferenceSession
{
    /// <summary>
    /// Runs the model on tensors given in the model's input order; the runtime allocates every output.
    /// </summary>
    /// <returns>The outputs, in the model's output order; dispose them when done.</returns>
    /// <exception cref="OnnxRuntimeException">A tensor does not match the model, or the run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public SessionOutputs Run(ReadOnlySpan<Tensor> inputs, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckArguments(inputs, Inputs, "input");
        var indices = new int[inputs.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            indices[i] = i;
        }

        return RunAllocated(inputs, indices, cancellationToken);
    }

    /// <summary>Runs the model on inputs given by name; the runtime allocates every output.</summary>
    /// <returns>The outputs, in the model's output order; dispose them when done.</returns>
    /// <exception cref="OnnxRuntimeException">An input name is unknown or missing, or a tensor does not match the model.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public SessionOutputs Run(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tensors = new Tensor[inputs.Count];
        var indices = new int[inputs.Count];
        var n = 0;
        foreach (var (name, tensor) in inputs)
        {
            var index = IndexOf(Inputs, name);
            if (index < 0)
            {
                throw new OnnxRuntimeException(
                    OrtErrorCode.InvalidArgument,
                    $"The model has no input '{name}'; its inputs are {string.Join(", ", Inputs)}.");
            }

            CheckArgument(tensor, Inputs[index], "input");
            tensors[n] = tensor;
            indices[n++] = index;
        }

        var missing = Inputs.Where(i => !inputs.ContainsKey(i.Name)).ToArray();
        if (missing.Length > 0)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"Input(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} not given; the model needs {string.Join(", ", Inputs)}.");
        }

        return RunAllocated(tensors, indices, cancellationToken);
    }

    private SessionOutputs RunAllocated(ReadOnlySpan<Tensor> inputs, int[] inputIndices, CancellationToken cancellationToken)
    {
        if (Outputs.FirstOrDefault(o => o.Kind != OnnxValueKind.Tensor) is { } notTensor)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"Output '{notTensor.Name}' is {notTensor.TypeText}, not a tensor; run the model with OnnxValue inputs (Run(IReadOnlyDictionary<string, OnnxValue>)) to read it.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var names = stackalloc nint[inputs.Length];
        var values = stackalloc nint[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            names[i] = _inputNames.Pointers[inputIndices[i]];
            values[i] = inputs[i].GetValueHandle();
        }

        var outputCount = Outputs.Count;
        var outputs = stackalloc nint[outputCount];
        for (var i = 0; i < outputCount; i++)
        {
            outputs[i] = 0;
        }

        RunNative(names, values, inputs.Length, _outputNames.Pointers, outputs, outputCount, cancellationToken);

        var tensors = TakeOutputs(outputs, outputCount, static (value, info) => RuntimeTensors.Wrap(value, info.Name));
        return new SessionOutputs(tensors, Outputs);
    }

    /// <summary>
    /// Runs a model whose inputs or outputs may be sequences, maps or optionals (see <see cref="OnnxValue"/>);
    /// the runtime allocates every output. An optional input holding nothing is left out of the run.
    /// </summary>
    /// <returns>The outputs, in the model's output order; dispose them when done.</returns>
    /// <exception cref="OnnxRuntimeException">An input name is unknown or missing, a value is of the wrong kind, or the run failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled during the run.</exception>
    public SessionValues Run(IReadOnlyDictionary<string, OnnxValue> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var names = stackalloc nint[Math.Max(inputs.Count, 1)];
        var values = stackalloc nint[Math.Max(inputs.Count, 1)];
        var fed = 0;
        foreach (var (name, value) in inputs)
        {
            var index = IndexOf(Inputs, name);
            if (index < 0)
            {
                throw new OnnxRuntimeException(
                    OrtErrorCode.InvalidArgument,
                    $"The model has no input '{name}'; its inputs are {string.Join(", ", Inputs)}.");
            }

            CheckValue(value, Inputs[index]);
            var handle = value.GetInputHandle();
            if (handle != 0)
            {
                names[fed] = _inputNames.Pointers[index];
                values[fed++] = handle;
            }
        }

        var missing = Inputs.Where(i => !inputs.ContainsKey(i.Name)).ToArray();
        if (missing.Length > 0)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"Input(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} not given; the model needs {string.Join(", ", Inputs)}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var outputCount = Outputs.Count;
        var outputs = stackalloc nint[Math.Max(outputCount, 1)];
        for (var i = 0; i < outputCount; i++)
        {
            outputs[i] = 0;
        }

        RunNative(names, values, fed, _outputNames.Pointers, outputs, outputCount, cancellationToken);

        var results = TakeOutputs(outputs, outputCount, static (value, info) => OnnxValue.FromRuntime(value, info.Kind, info.Name));
        return new SessionValues(results, Outputs);
    }

    /// <summary>Wraps each value the run returned; on a failure frees the wrapped ones and the rest.</summary>
    private T[] TakeOutputs<T>(nint* outputs, int count, Func<nint, TensorInfo, T> wrap)
        where T : IDisposable
    {
        var results = new T[count];
        var made = 0;
        try
        {
            for (; made < count; made++)
            {
                var value = outputs[made];
                outputs[made] = 0;
                results[made] = wrap(value, Outputs[made]);
            }
        }
        catch
        {
            for (var i = 0; i < made; i++)
            {
                results[i].Dispose();
            }

            for (var i = made; i < count; i++)
            {
                if (outputs[i] != 0)
                {
                    Native.OrtApi.Release(Native.OrtRelease.Value, outputs[i]);
                }
            }

            throw;
        }

        return results;
    }

    private static void CheckValue(OnnxValue? value, TensorInfo info)
    {
        if (value is null)
        {
            throw new ArgumentNullException(nameof(value), $"The value for input '{info.Name}' is null; an absent optional is OnnxValue.Optional(null).");
        }

        // The runtime has no optional wrapper of its own: a present optional is fed as what it holds.
        var given = value.Kind == OnnxValueKind.Optional && value.Contained is { } inner ? inner : value;
        var fits = info.Kind == given.Kind || (info.Kind == OnnxValueKind.Optional && given.Kind is not OnnxValueKind.Unknown);
        if (!fits || (value.Kind == OnnxValueKind.Optional && info.Kind != OnnxValueKind.Optional))
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.InvalidArgument,
                $"Input '{info.Name}' is {info.TypeText}; the value given is {value}.");
        }

        if (info.Kind == OnnxValueKind.Tensor)
        {
            CheckArgument(given.Tensor, info, "input");
        }
    }

    private static int IndexOf(IReadOnlyList<TensorInfo> infos, string name)
    {
        for (var i = 0; i < infos.Count; i++)
        {
            if (infos[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }
}
