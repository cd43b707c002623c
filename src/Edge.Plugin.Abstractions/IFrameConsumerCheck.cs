namespace Edge.Plugin;

/// <summary>
/// Lets the frame pipeline tell a frame consumer that can never take frames (an image model whose
/// input is not an image) from one that failed on a single frame. Asked only after a frame failed,
/// and it answers only once frames were actually run on it: a frame plugin that builds its own
/// tensors for a non-image model never hears of it.
/// </summary>
/// <remarks>
/// Internal, shared with Edge.Inference (which implements it) and Edge.Plugin.Hosting (which asks);
/// the three ship and version together.
/// </remarks>
internal interface IFrameConsumerCheck
{
    /// <summary>
    /// Why running this consumer on frames failed and always will, naming its input and what is
    /// wrong with it; null while no frame was refused for such a reason.
    /// </summary>
    string? FramesRefused { get; }
}
