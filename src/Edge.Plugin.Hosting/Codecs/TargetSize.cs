namespace Edge.Plugin.Hosting.Codecs;

/// <summary>
/// The smallest size the consumer of a frame needs, such as a model's 224x224 input. A decoder that
/// can produce a smaller image cheaply (JPEG DCT scaling) decodes at the smallest size that is still
/// at least this large in both dimensions; others decode at full size. Never an exact resize.
/// </summary>
/// <param name="Width">The least width wanted; 0 means full size.</param>
/// <param name="Height">The least height wanted; 0 means full size.</param>
public readonly record struct TargetSize(int Width, int Height)
{
    /// <summary>No hint: decode at full size.</summary>
    public static TargetSize Full => default;

    /// <summary>True when there is no hint.</summary>
    public bool IsFull => Width <= 0 && Height <= 0;

    /// <inheritdoc />
    public override string ToString() => IsFull ? "full size" : $"at least {Width}x{Height}";
}
