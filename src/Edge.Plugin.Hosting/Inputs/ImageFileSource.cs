using Edge.Plugin.Hosting.Codecs;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Frames from image files: one file, every image in a folder, or a glob such as <c>data/*.jpg</c>,
/// in name order or shuffled, once or looping. The timestamp is taken when a file is read, before
/// it is decoded.
/// </summary>
internal sealed class ImageFileSource : IFrameSource
{
    internal static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"];
    private readonly string[] _files;
    private readonly InputOptions _options;
    private readonly Random? _shuffle;
    private int _next;

    public ImageFileSource(string description, IReadOnlyList<string> files, InputOptions? options = null)
    {
        Description = description;
        _files = [.. files];
        _options = options ?? new InputOptions();
        if (_options.Shuffle)
        {
            _shuffle = _options.Seed != 0 ? new Random(_options.Seed) : new Random();
            _shuffle.Shuffle(_files);
        }
    }

    public string Description { get; }

    public int Count => _files.Length;

    /// <summary>
    /// Resolves a path, folder or glob to its files. A folder's or glob's entries are checked as each is
    /// read: one that is no regular file (a FIFO, a device) or is over the limit fails as that frame,
    /// named in the log, and the other files are still processed.
    /// </summary>
    /// <exception cref="FileNotFoundException">The path, folder or glob matches no image.</exception>
    /// <exception cref="IOException">The one file named is no regular file (a FIFO, a device), or is over <see cref="InputOptions.MaxFileBytes"/>.</exception>
    public static ImageFileSource Create(string input, InputOptions? options = null)
    {
        if (File.Exists(input))
        {
            // A single input that can never be read is a start-up failure, not a frame that failed.
            _ = RegularFile.Check(input, "Input file", (options ?? new InputOptions()).MaxFileBytes, InputOptions.MaxFileBytesSetting);
            return new ImageFileSource(input, [Path.GetFullPath(input)], options);
        }

        if (Directory.Exists(input))
        {
            var images = Directory.EnumerateFiles(input)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .ToList();
            return images.Count > 0
                ? new ImageFileSource(input, images, options)
                : throw new FileNotFoundException($"Input folder {Path.GetFullPath(input)} holds no {string.Join(", ", ImageExtensions)} files.", input);
        }

        var name = Path.GetFileName(input);
        if (name.Contains('*', StringComparison.Ordinal) || name.Contains('?', StringComparison.Ordinal))
        {
            var folder = Path.GetDirectoryName(input) is { Length: > 0 } d ? d : ".";
            var matches = Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, name).Order(StringComparer.Ordinal).ToList()
                : [];
            return matches.Count > 0
                ? new ImageFileSource(input, matches, options)
                : throw new FileNotFoundException($"Input pattern {input} matches no files (looked in {Path.GetFullPath(folder)}).", input);
        }

        throw new FileNotFoundException($"Input file not found: {Path.GetFullPath(input)}", input);
    }

    public async ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_next >= _files.Length)
        {
            if (!_options.Loop)
            {
                return null;
            }

            _next = 0;
            _shuffle?.Shuffle(_files);
        }

        var path = _files[_next++];
        var timestamp = Clock.NowNs();
        byte[] data;
        try
        {
            data = await RegularFile.ReadAllBytesAsync(path, "Input file", _options.MaxFileBytes, InputOptions.MaxFileBytesSetting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceException(path, $"could not be read: {e.Message}", e);
        }

        return ImageDecoder.Decode(data, path, timestamp, _options.Target, _options.MaxPixels);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
