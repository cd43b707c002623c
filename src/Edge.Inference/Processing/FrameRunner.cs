using Edge.Plugin;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference;

/// <summary>
/// The per-model state behind <see cref="OnnxModel.Run(Frame, CancellationToken)"/>: one input
/// tensor of the model's image size and one output tensor per output, over managed arrays that ONNX
/// Runtime reads and writes in place, bound once to an IO binding and reused for every frame.
/// </summary>
internal sealed class FrameRunner : IDisposable
{
    private readonly OnnxModel _model;
    private readonly ImageTensorWriter _writer;
    private readonly TensorInfo _input;
    private readonly bool _channelsFirst;
    private readonly int _channels;
    private readonly OrtValue[] _outputValues;
    private float[] _floats = [];
    private byte[] _bytes = [];
    private OrtValue? _inputValue;
    private int _width;
    private int _height;

    /// <exception cref="InferenceException">The model cannot take frames; the message names the input or output and why.</exception>
    public FrameRunner(OnnxModel model)
    {
        _model = model;
        var options = model.Options.Preprocessing;
        if (model.Inputs.Count != 1)
        {
            throw new InferenceException(
                $"Model {model.Source} cannot take frames: running on a frame needs a model with one image input, and it has {model.Inputs.Count}: {string.Join(", ", model.Inputs)}. {OwnTensors}");
        }

        _input = model.Inputs[0];
        var why = _input switch
        {
            { Kind: not OnnxValueType.ONNX_TYPE_TENSOR } => $"it is a {_input.TypeText}, not a tensor",
            { Shape.Count: not 4 } => $"its rank is {_input.Shape.Count}, where an image input has rank 4 (NCHW or NHWC)",
            { ElementType: not (TensorElementType.Float or TensorElementType.UInt8) } => $"it holds {_input.ElementType}, where an image input holds Float or UInt8",
            _ => null,
        };
        if (why is not null)
        {
            throw new InferenceException($"Model {model.Source} cannot take frames: its input {_input} is not an image: {why}. {OwnTensors}");
        }

        _channelsFirst = OnnxModel.IsChannelsFirst(_input, options.Layout);
        var channels = _channelsFirst ? _input.Shape[1] : _input.Shape[3];
        if (channels is not (1 or 3 or -1))
        {
            var how = options.Layout == TensorLayout.Auto
                ? $"neither 1 (grey) nor 3 (colour) channels, after the batch as NCHW has them ({_input.Shape[1]}) or last as NHWC has them ({_input.Shape[3]})"
                : $"{channels} channels as {options.Layout} (Inference:Preprocessing:Layout), where an image input has 1 (grey) or 3 (colour)";
            throw new InferenceException($"Model {model.Source} cannot take frames: its input {_input} has {how}. {OwnTensors}");
        }

        // A free channel count takes colour, the common case.
        _channels = channels == 1 ? 1 : 3;
        if (_channels == 1 && (options.Mean.Length == 3 || options.Std.Length == 3))
        {
            throw new InferenceException(
                $"Model {model.Source} takes grey images (input {_input}), but Inference:Preprocessing:Mean and Std give 3 values, one per colour channel: give one value each, or none.");
        }

        foreach (var output in model.Outputs)
        {
            if (output.Kind != OnnxValueType.ONNX_TYPE_TENSOR || !output.IsStatic || output.ElementType != TensorElementType.Float)
            {
                throw new InferenceException(
                    $"Model {model.Source} cannot take frames: running on a frame needs float outputs of fixed shape, and output {output} is not. {OwnTensors}");
            }
        }

        _writer = new ImageTensorWriter(model.Options.Preprocessing);
        var outputs = new float[model.Outputs.Count][];
        _outputValues = new OrtValue[outputs.Length];
        Binding = model.Session.CreateIoBinding();
        try
        {
            for (var i = 0; i < outputs.Length; i++)
            {
                var shape = model.Outputs[i].Shape.ToArray();
                outputs[i] = Pinned<float>(shape.Aggregate(1L, (a, b) => a * b), model.Outputs[i].Name);
                _outputValues[i] = OrtValue.CreateTensorValueFromMemory(outputs[i], shape);
                Binding.BindOutput(model.Outputs[i].Name, _outputValues[i]);
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Result = new InferenceResult(model.Outputs, outputs);
    }

    private const string OwnTensors = "A plugin for such a model builds the tensors itself and calls Run(inputs).";

    public OrtIoBinding Binding { get; }

    public InferenceResult Result { get; }

    public void Prepare(Frame frame)
    {
        var heightDim = _channelsFirst ? _input.Shape[2] : _input.Shape[1];
        var widthDim = _channelsFirst ? _input.Shape[3] : _input.Shape[2];
        var options = _model.Options.Preprocessing;
        var height = (int)(heightDim > 0 ? heightDim : options.Height > 0 ? options.Height : frame.Height);
        var width = (int)(widthDim > 0 ? widthDim : options.Width > 0 ? options.Width : frame.Width);
        if (_inputValue is null || width != _width || height != _height)
        {
            // Only a model of free height or width sees a new size, and then rebinds once per size change.
            _inputValue?.Dispose();
            long[] shape = _channelsFirst ? [1, _channels, height, width] : [1, height, width, _channels];
            var length = (long)_channels * width * height;
            if (_input.ElementType == TensorElementType.Float)
            {
                _floats = Pinned<float>(length, _input.Name);
                _inputValue = OrtValue.CreateTensorValueFromMemory(_floats, shape);
            }
            else
            {
                _bytes = Pinned<byte>(length, _input.Name);
                _inputValue = OrtValue.CreateTensorValueFromMemory(_bytes, shape);
            }

            Binding.BindInput(_input.Name, _inputValue);
            (_width, _height) = (width, height);
        }

        if (_input.ElementType == TensorElementType.Float)
        {
            _writer.Write(frame, _floats, width, height, _channelsFirst, _channels);
        }
        else
        {
            _writer.Write(frame, _bytes, width, height, _channelsFirst, _channels);
        }

        // The writer places the frame as it is; boxes are wanted in the image it was scaled from, and
        // model pixels map onto those by the same fit, only with the source's size in place of the frame's.
        Result.Placement = _writer.Placement with { SourceWidth = frame.SourceWidth, SourceHeight = frame.SourceHeight };
    }

    public void Dispose()
    {
        Binding.Dispose();
        _inputValue?.Dispose();
        foreach (var output in _outputValues)
        {
            output?.Dispose();
        }
    }

    /// <summary>
    /// An array ONNX Runtime holds for the model's life: on the pinned heap, so that it neither moves
    /// nor leaves pinned holes in the young generations.
    /// </summary>
    private T[] Pinned<T>(long length, string name)
    {
        if (length > Array.MaxLength)
        {
            throw new InferenceException($"Tensor '{name}' of {_model.Source} would hold {length} values, more than one array can ({Array.MaxLength}).");
        }

        return GC.AllocateArray<T>((int)length, pinned: true);
    }
}

/// <summary>The outputs of one run on a frame. Valid until the next frame run on the same model.</summary>
public sealed class InferenceResult
{
    private readonly IReadOnlyList<TensorInfo> _info;
    private readonly float[][] _outputs;

    internal InferenceResult(IReadOnlyList<TensorInfo> info, float[][] outputs)
    {
        _info = info;
        _outputs = outputs;
    }

    /// <summary>The number of outputs.</summary>
    public int Count => _outputs.Length;

    /// <summary>An output's values by position.</summary>
    public Span<float> this[int index] => _outputs[index];

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

    /// <summary>
    /// Where the frame landed in the model's input: maps boxes in model coordinates back to the source
    /// image's pixels (<see cref="Frame.SourceWidth"/> x <see cref="Frame.SourceHeight"/>), which are the
    /// frame's own when the source did not scale it down.
    /// </summary>
    public Letterbox Placement { get; internal set; }
}
