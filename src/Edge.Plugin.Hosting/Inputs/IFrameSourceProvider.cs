namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Opens frame sources for URL schemes of its own, so a package can add an input the host does not
/// read itself: register it with <c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;IFrameSourceProvider, MySource&gt;())</c>.
/// A scheme a provider serves wins over the built-in ones.
/// </summary>
public interface IFrameSourceProvider
{
    /// <summary>The URL schemes served, lower case, such as <c>gige</c>.</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>Opens a source for <paramref name="input"/>, honouring <paramref name="options"/> (size, capacity, reconnection).</summary>
    IFrameSource Open(Uri input, InputOptions options);
}
