using Edge.Plugin.Hosting.Codecs;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Frames from image files: one file, every image in a folder, or a glob such as <c>data/*.jpg</c>,
/// in name order. The timestamp is taken when a file is read, before it is decoded.
/// </summary>
internal sealed class ImageFileSource : IFrameSource
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];
    private readonly IReadOnlyList<string> _files;
    private readonly long _maxPixels;
    private int _next;

    public ImageFileSource(string description, IReadOnlyList<string> files, long maxPixels = ImageDecoder.DefaultMaxPixels)
    {
        Description = description;
        _files = files;
        _maxPixels = maxPixels;
    }

    public string Description { get; }

    public int Count => _files.Count;

    /// <summary>Resolves a path, folder or glob to its files; null when the input is not a local path form.</summary>
    /// <exception cref="FileNotFoundException">The path, folder or glob matches no image.</exception>
    public static ImageFileSource? TryCreate(string input)
    {
        if (input.Contains("://", StringComparison.Ordinal))
        {
            return null;
        }

        if (File.Exists(input))
        {
            return new ImageFileSource(input, [Path.GetFullPath(input)]);
        }

        if (Directory.Exists(input))
        {
            var images = Directory.EnumerateFiles(input)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .ToList();
            return images.Count > 0
                ? new ImageFileSource(input, images)
                : throw new FileNotFoundException($"Input folder {Path.GetFullPath(input)} holds no .jpg, .jpeg or .png files.", input);
        }

        var name = Path.GetFileName(input);
        if (name.Contains('*', StringComparison.Ordinal) || name.Contains('?', StringComparison.Ordinal))
        {
            var folder = Path.GetDirectoryName(input) is { Length: > 0 } d ? d : ".";
            var matches = Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, name).Order(StringComparer.Ordinal).ToList()
                : [];
            return matches.Count > 0
                ? new ImageFileSource(input, matches)
                : throw new FileNotFoundException($"Input pattern {input} matches no files (looked in {Path.GetFullPath(folder)}).", input);
        }

        throw new FileNotFoundException($"Input file not found: {Path.GetFullPath(input)}", input);
    }

    public async ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_next >= _files.Count)
        {
            return null;
        }

        var path = _files[_next++];
        var timestamp = Clock.NowNs();
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceException(path, $"could not be read: {e.Message}", e);
        }

        return ImageDecoder.Decode(data, path, timestamp, _maxPixels);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
