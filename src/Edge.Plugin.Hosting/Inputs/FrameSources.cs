using Edge.Plugin.Hosting.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>Chooses a frame source from the one <c>-input</c> string, as pywaggle resolves a device.</summary>
internal static partial class FrameSources
{
    private static readonly string[] VideoExtensions = [".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts", ".mts", ".mpg", ".mpeg", ".flv", ".wmv", ".mjpeg", ".mjpg", ".h264", ".h265", ".hevc"];
    private static readonly string[] FfmpegSchemes = ["rtsp", "rtsps", "rtmp", "rtmps", "srt", "udp", "rtp", "tcp"];

    /// <summary>
    /// In order: a test pattern (<c>pattern://</c>, <c>testsrc</c>); an HTTP(S) URL (MJPEG stream or
    /// snapshot); an ffmpeg stream URL (RTSP, RTMP, SRT, UDP); a V4L2 device (/dev/video0); a video
    /// file; an image file, folder or glob; a Waggle camera name from the node's data config.
    /// </summary>
    /// <exception cref="FileNotFoundException">A local input names nothing that exists.</exception>
    /// <exception cref="NotSupportedException">The input is of a form this build cannot read, or needs a missing tool.</exception>
    /// <exception cref="ArgumentException">The input or an option is malformed; the message names it.</exception>
    public static IFrameSource Create(string input, InputOptions? options = null, ILogger? logger = null, IReadOnlyList<IFrameSourceProvider>? providers = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        options ??= new InputOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        input = input.Trim();

        if (PatternSource.TryCreate(input, options) is { } pattern)
        {
            return pattern;
        }

        if (input.Contains("://", StringComparison.Ordinal))
        {
            return FromUrl(input, options, logger, providers ?? []);
        }

        if (input.StartsWith("/dev/video", StringComparison.Ordinal))
        {
            return File.Exists(input)
                ? new FfmpegFrameSource(input, FfmpegInput.Device, options, logger)
                : throw new FileNotFoundException($"Camera device {input} does not exist (is the camera plugged in, and the device passed to the container?).", input);
        }

        if (File.Exists(input) && VideoExtensions.Contains(Path.GetExtension(input).ToLowerInvariant()))
        {
            return new FfmpegFrameSource(Path.GetFullPath(input), FfmpegInput.File, options, logger);
        }

        if (!File.Exists(input) && !Directory.Exists(input) && WaggleCameras.LooksLikeName(input))
        {
            var config = WaggleCameras.ConfigPath;
            var url = WaggleCameras.Resolve(input, config)
                ?? throw new FileNotFoundException($"Input '{input}' is not a file or folder here, and there is no Waggle data config at {config} to look it up as a camera name (set {WaggleCameras.ConfigVariable}).", input);
            LogResolved(logger, input, url);
            return Create(url, options, logger, providers);
        }

        return ImageFileSource.Create(input, options);
    }

    private static IFrameSource FromUrl(string input, InputOptions options, ILogger logger, IReadOnlyList<IFrameSourceProvider> providers)
    {
        if (!Uri.TryCreate(input, UriKind.Absolute, out var url))
        {
            throw new ArgumentException($"Input '{input}' looks like a URL but is not a valid one.");
        }

        var scheme = url.Scheme.ToLowerInvariant();
        foreach (var provider in providers)
        {
            if (provider.Schemes.Contains(scheme, StringComparer.OrdinalIgnoreCase))
            {
                return provider.Open(url, options);
            }
        }

        if (scheme is "http" or "https")
        {
            return new HttpFrameSource(url, options, logger);
        }

        if (scheme == "file")
        {
            return Create(url.LocalPath, options, logger, providers);
        }

        return FfmpegSchemes.Contains(scheme)
            ? new FfmpegFrameSource(input, FfmpegInput.Stream, options, logger)
            : throw new NotSupportedException($"Input '{input}': the scheme '{url.Scheme}' is not one this SDK reads. Use http(s):// (MJPEG or snapshot), rtsp://, rtmp://, srt://, udp://, a /dev/video device, a file, folder or glob, or pattern://.");
    }

    // The URL may carry camera credentials; log only where it points.
    private static void LogResolved(ILogger logger, string name, string url) =>
        LogCamera(logger, name, Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Authority[(u.Authority.IndexOf('@', StringComparison.Ordinal) + 1)..]}{u.AbsolutePath}" : url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waggle camera {Name} resolves to {Url}")]
    private static partial void LogCamera(ILogger logger, string name, string url);
}
