namespace Edge.Inference;

/// <summary>
/// Where a frame was placed inside a model's input: scaled to <see cref="Width"/> x <see cref="Height"/>
/// at (<see cref="OffsetX"/>, <see cref="OffsetY"/>). Maps model coordinates back to the source image's
/// pixels: a run's placement carries the size of the image the frame was scaled from
/// (<see cref="Edge.Plugin.Frame.SourceWidth"/>), so boxes land where the object is in that image.
/// </summary>
/// <param name="SourceWidth">The source image's width (the frame's, when the frame was not scaled down).</param>
/// <param name="SourceHeight">The source image's height.</param>
/// <param name="Width">The scaled image's width inside the input.</param>
/// <param name="Height">The scaled image's height inside the input.</param>
/// <param name="OffsetX">Padding columns left of the image.</param>
/// <param name="OffsetY">Padding rows above the image.</param>
public readonly record struct Letterbox(int SourceWidth, int SourceHeight, int Width, int Height, int OffsetX, int OffsetY)
{
    /// <summary>The largest aspect-preserving fit of a source into a target, centred.</summary>
    public static Letterbox Fit(int sourceWidth, int sourceHeight, int targetWidth, int targetHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetHeight);
        var scale = Math.Min((double)targetWidth / sourceWidth, (double)targetHeight / sourceHeight);
        var width = Math.Clamp((int)Math.Round(sourceWidth * scale), 1, targetWidth);
        var height = Math.Clamp((int)Math.Round(sourceHeight * scale), 1, targetHeight);
        return new Letterbox(sourceWidth, sourceHeight, width, height, (targetWidth - width) / 2, (targetHeight - height) / 2);
    }

    /// <summary>Source pixels per model pixel, horizontally.</summary>
    public float ScaleX => Width == 0 ? 0 : (float)SourceWidth / Width;

    /// <summary>Source pixels per model pixel, vertically.</summary>
    public float ScaleY => Height == 0 ? 0 : (float)SourceHeight / Height;

    /// <summary>A box in model input coordinates, mapped to the source image and clipped to it.</summary>
    public BoundingBox ToSource(BoundingBox box) => new(
        Math.Clamp((box.X1 - OffsetX) * ScaleX, 0, SourceWidth),
        Math.Clamp((box.Y1 - OffsetY) * ScaleY, 0, SourceHeight),
        Math.Clamp((box.X2 - OffsetX) * ScaleX, 0, SourceWidth),
        Math.Clamp((box.Y2 - OffsetY) * ScaleY, 0, SourceHeight));
}
