using Edge.Plugin;

namespace Edge.Inference;

/// <summary>The model's image size, offered to the host so frames are decoded no larger than the model uses.</summary>
public sealed partial class OnnxModel : IFrameSizeHint
{
    /// <summary>
    /// The height and width of the model's single image input when both are fixed in the model
    /// (1x3x224x224 gives 224x224), else null: a model of several inputs, or of free height or width,
    /// takes frames at any size. A letterboxing model asks for frames that keep their aspect ratio.
    /// </summary>
    public FrameSize? FrameSize
    {
        get
        {
            if (Inputs is not [{ Shape.Count: 4 } input])
            {
                return null;
            }

            var channelsFirst = IsChannelsFirst(input, Options.Preprocessing.Layout);
            var height = channelsFirst ? input.Shape[2] : input.Shape[1];
            var width = channelsFirst ? input.Shape[3] : input.Shape[2];
            return height > 0 && width > 0 && height <= int.MaxValue && width <= int.MaxValue
                ? new FrameSize((int)width, (int)height, KeepAspect: Options.Preprocessing.Resize == ResizeMode.Letterbox)
                : null;
        }
    }

    /// <summary>
    /// Whether an image input is NCHW: as configured, else read from the shape: a 3 after the batch is
    /// colour channels first, a 3 last is colour channels last; failing those, a 1 after the batch is a
    /// grey channel first, a 1 last a grey channel last; a free dimension after the batch, channels first.
    /// </summary>
    internal static bool IsChannelsFirst(TensorInfo input, TensorLayout layout) => layout switch
    {
        TensorLayout.Nchw => true,
        TensorLayout.Nhwc => false,
        _ => input.Shape[1] == 3
            || (input.Shape[3] != 3 && (input.Shape[1] == 1 || (input.Shape[1] < 0 && input.Shape[3] != 1))),
    };
}
