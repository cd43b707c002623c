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

        var tensors = new Tensor[outputCount];
        var made = 0;
        try
        {
            for (; made < outputCount; made++)
            {
                var value = outputs[made];
                outputs[made] = 0;
                tensors[made] = RuntimeTensors.Wrap(value, Outputs[made].Name);
            }
        }
        catch
        {
            for (var i = 0; i < made; i++)
            {
                tensors[i].Dispose();
            }

            for (var i = made; i < outputCount; i++)
            {
                if (outputs[i] != 0)
                {
                    Native.OrtApi.Release(Native.OrtRelease.Value, outputs[i]);
                }
            }

            throw;
        }

        return new SessionOutputs(tensors, Outputs);
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
