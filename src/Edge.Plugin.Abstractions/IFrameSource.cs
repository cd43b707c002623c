namespace Edge.Plugin;

/// <summary>A source of frames: image files, a camera, a stream.</summary>
public interface IFrameSource : IAsyncDisposable
{
    /// <summary>A short description for logs, such as the path or URL.</summary>
    string Description { get; }

    /// <summary>
    /// Reads the next frame, or returns null when a finite source (files) has no more. The caller
    /// owns the frame and disposes it.
    /// </summary>
    /// <exception cref="FrameSourceException">A frame could not be read or decoded; the source may still have more.</exception>
    ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>A frame could not be read or decoded. Names the source and says what was wrong.</summary>
public sealed class FrameSourceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FrameSourceException(string source, string message, Exception? innerException = null)
        : base($"{source}: {message}", innerException)
    {
        SourceName = source;
    }

    /// <summary>Creates the exception.</summary>
    public FrameSourceException()
        : this("(unknown)", "frame could not be read")
    {
    }

    /// <summary>Creates the exception.</summary>
    public FrameSourceException(string message)
        : this("(unknown)", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public FrameSourceException(string message, Exception innerException)
        : this("(unknown)", message, innerException)
    {
    }

    /// <summary>The file, URL or camera the frame came from.</summary>
    public string SourceName { get; }
}
