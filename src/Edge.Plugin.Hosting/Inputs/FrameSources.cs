namespace Edge.Plugin.Hosting.Inputs;

/// <summary>Chooses a frame source from the one <c>-input</c> string, as pywaggle resolves a device.</summary>
internal static class FrameSources
{
    /// <exception cref="FileNotFoundException">A local input names nothing that exists.</exception>
    /// <exception cref="NotSupportedException">The input is of a form this build cannot read.</exception>
    public static IFrameSource Create(string input)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        return ImageFileSource.TryCreate(input)
            ?? throw new NotSupportedException($"Input '{input}' is a URL; this build reads image files, folders and globs. Give a path, for example -input images/ or -input 'images/*.jpg'.");
    }
}
