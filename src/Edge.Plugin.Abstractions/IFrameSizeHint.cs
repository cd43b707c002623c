namespace Edge.Plugin;

/// <summary>
/// Implemented by a service that uses frames at one fixed size, such as an image model, so the host can
/// decode and scale frames to no more than that. When <c>Inputs:Width</c> and <c>Inputs:Height</c> are
/// not set, the host asks every <see cref="IFrameSizeHint"/> registered with dependency injection as the
/// input opens, and uses the largest size any of them needs.
/// </summary>
public interface IFrameSizeHint
{
    /// <summary>The size frames are used at, or null when it is not fixed (the consumer takes any size).</summary>
    FrameSize? FrameSize { get; }
}

/// <summary>A frame size a consumer needs.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="KeepAspect">
/// The consumer keeps the frame's aspect ratio (a letterboxing model), so frames should be scaled to
/// cover the size without being distorted rather than stretched to it.
/// </param>
public readonly record struct FrameSize(int Width, int Height, bool KeepAspect = false);
