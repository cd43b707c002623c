namespace Edge.Inference;

/// <summary>The order of colour channels a model expects.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue.</summary>
    Rgb,

    /// <summary>Blue, green, red (OpenCV-trained models).</summary>
    Bgr,
}

/// <summary>Where the channel dimension sits in an image tensor.</summary>
public enum TensorLayout
{
    /// <summary>Read from the model's input shape: a dimension of 3 after the batch means NCHW.</summary>
    Auto,

    /// <summary>Batch, channels, height, width (PyTorch).</summary>
    Nchw,

    /// <summary>Batch, height, width, channels (TensorFlow).</summary>
    Nhwc,
}

/// <summary>How a frame is fitted to the model's input size.</summary>
public enum ResizeMode
{
    /// <summary>Scale each axis on its own to fill the input: fine for classifiers trained that way.</summary>
    Stretch,

    /// <summary>
    /// Keep the aspect ratio, centre the image and fill the rest with <see cref="ImagePreprocessing.PadValue"/>,
    /// as YOLO-family detectors expect. <see cref="InferenceResult.Placement"/> maps boxes back to the frame.
    /// </summary>
    Letterbox,
}

/// <summary>
/// How a frame's pixels become a model's input: each 0-255 value v becomes
/// <c>(v * Scale - Mean[c]) / Std[c]</c>, after a bilinear resize to the model's size.
/// </summary>
public sealed class ImagePreprocessing
{
    /// <summary>Channel order the model expects. Default RGB.</summary>
    public ChannelOrder ChannelOrder { get; set; } = ChannelOrder.Rgb;

    /// <summary>Tensor layout. Default: read from the model.</summary>
    public TensorLayout Layout { get; set; } = TensorLayout.Auto;

    /// <summary>Multiplier applied to 0-255 pixel values. Default 1/255. Ignored for uint8 inputs.</summary>
    public float Scale { get; set; } = 1f / 255f;

    // Empty by default, not [0, 0, 0]: configuration binding appends to an array it finds filled, so
    // three values set in appsettings.json would otherwise become six.

    /// <summary>Per-channel mean, in the model's channel order, subtracted after scaling. Empty (the default): 0 for each channel.</summary>
    public float[] Mean { get; set; } = [];

    /// <summary>Per-channel standard deviation, in the model's channel order. Empty (the default): 1 for each channel.</summary>
    public float[] Std { get; set; } = [];

    internal float[] EffectiveMean => Mean.Length == 0 ? [0f, 0f, 0f] : Mean;

    internal float[] EffectiveStd => Std.Length == 0 ? [1f, 1f, 1f] : Std;

    /// <summary>Stretch (default) or letterbox.</summary>
    public ResizeMode Resize { get; set; } = ResizeMode.Stretch;

    /// <summary>The 0-255 value of letterbox padding, before scaling. Default 114, the YOLO convention.</summary>
    public byte PadValue { get; set; } = 114;

    /// <summary>Width used when the model's width is not fixed; 0 keeps the frame's width.</summary>
    public int Width { get; set; }

    /// <summary>Height used when the model's height is not fixed; 0 keeps the frame's height.</summary>
    public int Height { get; set; }

    internal void Validate()
    {
        if (Mean is not { Length: 0 or 3 } || Std is not { Length: 0 or 3 })
        {
            throw new ArgumentException($"Preprocessing Mean and Std each need exactly 3 values, one per channel (or none, for 0 and 1); got Mean [{string.Join(", ", Mean ?? [])}] and Std [{string.Join(", ", Std ?? [])}].");
        }

        if (Std.Any(s => s == 0f || !float.IsFinite(s)) || Mean.Any(m => !float.IsFinite(m)))
        {
            throw new ArgumentException($"Preprocessing Mean values must be finite, and Std values finite and non-zero; got Mean [{string.Join(", ", Mean)}] and Std [{string.Join(", ", Std)}].");
        }

        if (!float.IsFinite(Scale) || Scale == 0f)
        {
            throw new ArgumentException($"Preprocessing Scale must be finite and non-zero; got {Scale}.");
        }

        if (!Enum.IsDefined(Resize))
        {
            throw new ArgumentException($"Preprocessing Resize must be Stretch or Letterbox; got {Resize}.");
        }

        if (Width < 0 || Height < 0)
        {
            throw new ArgumentException("Preprocessing Width and Height must be 0 (use the frame's) or positive.");
        }
    }
}
