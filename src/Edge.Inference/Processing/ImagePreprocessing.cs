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
/// How 16-bit grey frames (<see cref="Edge.Plugin.PixelFormat.Gray16"/>: microscope, thermal and
/// scientific cameras) become the 0-255 values the rest of preprocessing works on. The value is not
/// rounded to 8 bits for a float input, so such a model still sees every one of the 65,536 levels;
/// a uint8 input gets it rounded.
/// </summary>
public enum Gray16Conversion
{
    /// <summary>
    /// The whole 0-65535 range onto 0-255 (v / 257), as OpenCV's imread and ffmpeg convert: the same
    /// for every frame. The default. A 12-bit sensor's values then use only 0-16; choose
    /// <see cref="Window"/> for those.
    /// </summary>
    Full,

    /// <summary>
    /// Per-frame stretch: each frame's darkest pixel becomes 0 and its brightest 255 (a flat frame
    /// becomes all 0). Shows faint detail, but the same value reads differently in two frames.
    /// </summary>
    MinMax,

    /// <summary>
    /// A fixed window: <see cref="ImagePreprocessing.Gray16Low"/> becomes 0 and
    /// <see cref="ImagePreprocessing.Gray16High"/> 255, linearly between, values outside clipped.
    /// For a 12-bit sensor, 0 and 4095.
    /// </summary>
    Window,
}

/// <summary>
/// How a frame's pixels become a model's input: each 0-255 value v becomes
/// <c>(v * Scale - Mean[c]) / Std[c]</c>, after a bilinear resize to the model's size.
/// A 3-channel (RGB) model takes any frame, grey ones with the value in every channel; a 1-channel
/// (grey) model takes any frame too, colour ones as their luma (0.299 R + 0.587 G + 0.114 B, as
/// OpenCV and PIL compute grey). 16-bit grey frames are first brought to 0-255 by <see cref="Gray16"/>.
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

    /// <summary>
    /// Per-channel mean, in the model's channel order, subtracted after scaling: one value per channel,
    /// or a single value for every channel (what a grey model takes). Empty (the default): 0 for each channel.
    /// </summary>
    public float[] Mean { get; set; } = [];

    /// <summary>
    /// Per-channel standard deviation, in the model's channel order: one value per channel, or a single
    /// value for every channel. Empty (the default): 1 for each channel.
    /// </summary>
    public float[] Std { get; set; } = [];

    internal float[] EffectiveMean => Mean.Length switch { 0 => [0f, 0f, 0f], 1 => [Mean[0], Mean[0], Mean[0]], _ => Mean };

    internal float[] EffectiveStd => Std.Length switch { 0 => [1f, 1f, 1f], 1 => [Std[0], Std[0], Std[0]], _ => Std };

    /// <summary>Stretch (default) or letterbox.</summary>
    public ResizeMode Resize { get; set; } = ResizeMode.Stretch;

    /// <summary>The 0-255 value of letterbox padding, before scaling. Default 114, the YOLO convention.</summary>
    public byte PadValue { get; set; } = 114;

    /// <summary>Width used when the model's width is not fixed; 0 keeps the frame's width.</summary>
    public int Width { get; set; }

    /// <summary>Height used when the model's height is not fixed; 0 keeps the frame's height.</summary>
    public int Height { get; set; }

    /// <summary>How 16-bit grey frames are brought to 0-255 before the steps above. Default <see cref="Gray16Conversion.Full"/>.</summary>
    public Gray16Conversion Gray16 { get; set; } = Gray16Conversion.Full;

    /// <summary>The 16-bit value that becomes 0 under <see cref="Gray16Conversion.Window"/> (0-65534); set only with it.</summary>
    public int Gray16Low { get; set; }

    /// <summary>The 16-bit value that becomes 255 under <see cref="Gray16Conversion.Window"/> (above <see cref="Gray16Low"/>, at most 65535); set only with it.</summary>
    public int Gray16High { get; set; }

    internal void Validate()
    {
        if (Mean is not { Length: 0 or 1 or 3 } || Std is not { Length: 0 or 1 or 3 })
        {
            throw new ArgumentException($"Preprocessing:Mean and Preprocessing:Std each need 3 values, one per channel, or 1 for every channel (or none, for 0 and 1); got Mean [{string.Join(", ", Mean ?? [])}] and Std [{string.Join(", ", Std ?? [])}].");
        }

        if (Std.Any(s => s == 0f || !float.IsFinite(s)) || Mean.Any(m => !float.IsFinite(m)))
        {
            throw new ArgumentException($"Preprocessing:Mean values must be finite, and Std values finite and non-zero; got Mean [{string.Join(", ", Mean)}] and Std [{string.Join(", ", Std)}].");
        }

        if (!float.IsFinite(Scale) || Scale == 0f)
        {
            throw new ArgumentException($"Preprocessing:Scale must be finite and non-zero; got {Scale}.");
        }

        if (!Enum.IsDefined(Resize))
        {
            throw new ArgumentException($"Preprocessing:Resize must be Stretch or Letterbox; got {Resize}.");
        }

        if (Width < 0 || Height < 0)
        {
            throw new ArgumentException("Preprocessing:Width and Preprocessing:Height must be 0 (use the frame's) or positive.");
        }

        ValidateGray16();
    }

    // The messages start with the configuration key, which the host's error report recognises and
    // completes with the environment variable that sets it.
    private void ValidateGray16()
    {
        if (!Enum.IsDefined(Gray16))
        {
            throw new ArgumentException($"Preprocessing:Gray16 must be Full, MinMax or Window; got {Gray16}.");
        }

        if (Gray16 != Gray16Conversion.Window)
        {
            if (Gray16Low != 0 || Gray16High != 0)
            {
                throw new ArgumentException($"Preprocessing:Gray16 is {Gray16}, but Gray16Low and Gray16High ({Gray16Low}, {Gray16High}) are set, and they apply only to Window: set Gray16 to Window, or remove them.");
            }

            return;
        }

        if (Gray16Low < 0 || Gray16High > ushort.MaxValue || Gray16Low >= Gray16High)
        {
            throw new ArgumentException($"Preprocessing:Gray16Low and Gray16High must satisfy 0 <= Gray16Low < Gray16High <= 65535 for Gray16 Window (a 12-bit sensor: 0 and 4095); got {Gray16Low} and {Gray16High}.");
        }
    }
}
