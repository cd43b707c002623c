using Edge.Plugin;

namespace Edge.Inference;

/// <summary>
/// The per-session state behind <see cref="InferenceSession.Run(Frame, CancellationToken)"/>: one
/// input tensor of the model's image size and one output tensor per output, made once and reused.
/// </summary>
internal sealed class FrameRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ImageTensorWriter _writer;
    private readonly TensorInfo _input;
    private readonly bool _channelsFirst;
    private readonly Tensor[] _inputs = new Tensor[1];
    private readonly Tensor[] _outputs;
    private int _width;
    private int _height;

    public FrameRunner(InferenceSession session)
    {
        _session = session;
        if (session.Inputs.Count != 1)
        {
            throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument,
                $"Running on a frame needs a model with one image input; {session.Source} has {session.Inputs.Count}: {string.Join(", ", session.Inputs)}. Build the tensors yourself and call Run(inputs, outputs).");
        }

        _input = session.Inputs[0];
        if (_input.ElementType is not (TensorElementType.Float or TensorElementType.UInt8) || _input.Shape.Count != 4)
        {
            throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument,
                $"Running on a frame needs a float or uint8 image input of rank 4 (NCHW or NHWC); input {_input} is not one.");
        }

        _channelsFirst = InferenceSession.IsChannelsFirst(_input, session.Options.Preprocessing.Layout);
        var channels = _channelsFirst ? _input.Shape[1] : _input.Shape[3];
        if (channels is not (3 or -1))
        {
            throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument,
                $"Input {_input} has {channels} channels where an image input has 3 (layout {(_channelsFirst ? "NCHW" : "NHWC")}).");
        }

        foreach (var output in session.Outputs)
        {
            if (!output.IsStatic || output.ElementType != TensorElementType.Float)
            {
                throw new OnnxRuntimeException(OrtErrorCode.InvalidArgument,
                    $"Running on a frame needs float outputs of fixed shape; output {output} is not. Call Run(inputs, outputs) with tensors of the shape you expect.");
            }
        }

        _writer = new ImageTensorWriter(session.Options.Preprocessing);
        _outputs = [.. session.Outputs.Select(o => (Tensor)new Tensor<float>(o.Shape.ToArray()))];
        Result = new InferenceResult(session.Outputs, _outputs);
    }

    public ReadOnlySpan<Tensor> InputSpan => _inputs;

    public ReadOnlySpan<Tensor> OutputSpan => _outputs;

    public InferenceResult Result { get; }

    public void Prepare(Frame frame)
    {
        var heightDim = _channelsFirst ? _input.Shape[2] : _input.Shape[1];
        var widthDim = _channelsFirst ? _input.Shape[3] : _input.Shape[2];
        var options = _session.Options.Preprocessing;
        var height = (int)(heightDim > 0 ? heightDim : options.Height > 0 ? options.Height : frame.Height);
        var width = (int)(widthDim > 0 ? widthDim : options.Width > 0 ? options.Width : frame.Width);
        if (_inputs[0] is null || width != _width || height != _height)
        {
            _inputs[0]?.Dispose();
            long[] shape = _channelsFirst ? [1, 3, height, width] : [1, height, width, 3];
            _inputs[0] = _input.ElementType == TensorElementType.Float ? new Tensor<float>(shape) : new Tensor<byte>(shape);
            (_width, _height) = (width, height);
        }

        switch (_inputs[0])
        {
            case Tensor<float> floats:
                _writer.Write(frame, floats.Span, width, height, _channelsFirst);
                break;
            case Tensor<byte> bytes:
                _writer.Write(frame, bytes.Span, width, height, _channelsFirst);
                break;
        }

        Result.Placement = _writer.Placement;
    }

    public void Dispose()
    {
        _inputs[0]?.Dispose();
        foreach (var output in _outputs)
        {
            output.Dispose();
        }
    }
}

/// <summary>The outputs of one run on a frame. Valid until the next frame run on the same session.</summary>
public sealed class InferenceResult
{
    private readonly IReadOnlyList<TensorInfo> _info;
    private readonly Tensor[] _outputs;

    internal InferenceResult(IReadOnlyList<TensorInfo> info, Tensor[] outputs)
    {
        _info = info;
        _outputs = outputs;
    }

    /// <summary>The number of outputs.</summary>
    public int Count => _outputs.Length;

    /// <summary>An output's values by position.</summary>
    public Span<float> this[int index] => ((Tensor<float>)_outputs[index]).Span;

    /// <summary>An output's values by name.</summary>
    /// <exception cref="KeyNotFoundException">The model has no output of that name; the message lists those it has.</exception>
    public Span<float> this[string name]
    {
        get
        {
            for (var i = 0; i < _info.Count; i++)
            {
                if (_info[i].Name == name)
                {
                    return this[i];
                }
            }

            throw new KeyNotFoundException($"The model has no output '{name}'; its outputs are {string.Join(", ", _info.Select(o => o.Name))}.");
        }
    }

    /// <summary>Describes each output.</summary>
    public IReadOnlyList<TensorInfo> Outputs => _info;

    /// <summary>Where the frame landed in the model's input: maps boxes in model coordinates back to the frame.</summary>
    public Letterbox Placement { get; internal set; }
}
