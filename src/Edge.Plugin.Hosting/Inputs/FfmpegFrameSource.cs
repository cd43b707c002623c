using Edge.Plugin.Hosting.Secrets;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>What an ffmpeg-read input is, which decides its flags and whether it ends.</summary>
internal enum FfmpegInput
{
    /// <summary>A network stream (RTSP, RTMP, SRT, UDP): live, reconnected when it drops.</summary>
    Stream,

    /// <summary>A V4L2 device such as /dev/video0: live, reopened when it fails.</summary>
    Device,

    /// <summary>A video file: every frame in order, then the end (or the start again with Loop).</summary>
    File,
}

/// <summary>
/// Frames through an ffmpeg child process that decodes anything ffmpeg reads and writes raw RGB
/// frames to a pipe: <c>-f rawvideo -pix_fmt rgb24 -s WxH</c> at the size the plugin asked for, or
/// self-describing PPM frames at the native size when it asked for none. A process that exits or
/// stalls is killed and started again with backoff, with its last error lines in the log.
/// </summary>
internal sealed class FfmpegFrameSource : LiveFrameSource<Frame>
{
    private const int StderrLines = 8;
    private readonly string _input;
    private readonly FfmpegInput _kind;
    private readonly string _ffmpeg;

    public FfmpegFrameSource(string input, FfmpegInput kind, InputOptions options, ILogger logger)
        : base(Redaction.Url(input), options, logger, finite: kind == FfmpegInput.File)
    {
        _input = input;
        _kind = kind;
        _ffmpeg = Locate(Description, Environment.GetEnvironmentVariable("PATH"));
    }

    /// <summary>The ffmpeg command line of one connection, for logs and docs.</summary>
    public IReadOnlyList<string> Arguments
    {
        get
        {
            List<string> args = ["-hide_banner", "-nostdin", "-loglevel", "error"];
            if (_kind == FfmpegInput.Stream && _input.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase))
            {
                // UDP loses packets (grey smears) on any busy link; TCP is what survives real networks.
                args.AddRange(["-rtsp_transport", "tcp"]);
            }

            if (_kind == FfmpegInput.Device)
            {
                args.AddRange(["-f", "v4l2"]);
            }

            args.AddRange(["-i", _input, "-an", "-sn", "-dn"]);
            if (RawFrames)
            {
                args.AddRange(["-s", $"{Options.Width}x{Options.Height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
            }
            else
            {
                if (Options.HasSize)
                {
                    // Kept aspect: the frame size depends on the source's, so frames describe themselves (PPM).
                    args.AddRange(["-vf", $"scale={Options.Width}:{Options.Height}:force_original_aspect_ratio=increase"]);
                }

                args.AddRange(["-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1"]);
            }

            return args;
        }
    }

    private bool RawFrames => Options.HasSize && !Options.KeepAspect;

    /// <summary>The path of ffmpeg on PATH.</summary>
    /// <exception cref="NotSupportedException">ffmpeg is not installed; the message names the package.</exception>
    public static string Locate(string input, string? searchPath)
    {
        foreach (var folder in (searchPath ?? "/usr/bin").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "ffmpeg");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new NotSupportedException($"Input '{Redaction.Url(input)}' is read through ffmpeg, which is not installed or not on PATH (Debian/Ubuntu: apt-get install ffmpeg).");
    }

    protected override async Task GrabAsync(CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(_ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var arg in Arguments)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new IOException($"{_ffmpeg} did not start");
        var errors = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                lock (errors)
                {
                    errors.Enqueue(e.Data);
                    if (errors.Count > StderrLines)
                    {
                        errors.Dequeue();
                    }
                }
            }
        };
        process.BeginErrorReadLine();
        try
        {
            using var pipe = new FramePipe(process.StandardOutput.BaseStream, Options.StallTimeout, cancellationToken);
            var raw = RawFrames;
            while (true)
            {
                var frame = raw
                    ? await pipe.ReadRawAsync(Options.Width, Options.Height, Description).ConfigureAwait(false)
                    : await pipe.ReadPpmAsync(Description).ConfigureAwait(false);
                if (frame is null)
                {
                    break;
                }

                Connected();
                await EmitAsync(frame, frame.TimestampNs, cancellationToken).ConfigureAwait(false);
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new IOException($"ffmpeg exited with code {process.ExitCode}: {Tail(errors)}");
            }

            if (_kind != FfmpegInput.File)
            {
                // A live stream has no end; ffmpeg leaving cleanly means the far side hung up.
                throw new IOException("ffmpeg exited: the stream ended");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    protected override Frame ToFrame(Frame item) => item;

    protected override void Release(Frame item) => item.Dispose();

    private static string Tail(Queue<string> errors)
    {
        lock (errors)
        {
            // ffmpeg quotes the input it failed on, camera password included.
            return errors.Count == 0 ? "(no message)" : Redaction.Text(string.Join(" | ", errors));
        }
    }

    /// <summary>Reads whole frames from ffmpeg's stdout, stamping each when its first byte arrives.</summary>
    private sealed class FramePipe(Stream stdout, TimeSpan stall, CancellationToken cancellation) : IDisposable
    {
        private readonly BufferedStream _stream = new(stdout, 64 * 1024);
        private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        private readonly byte[] _one = new byte[1];

        public async ValueTask<Frame?> ReadRawAsync(int width, int height, string source)
        {
            if (await ReadAsync(_one).ConfigureAwait(false) == 0)
            {
                return null;
            }

            var frame = Frame.Rent(width, height, PixelFormat.Rgb24, Clock.NowNs(), source);
            frame.Pixels[0] = _one[0];
            await FillAsync(frame, 1).ConfigureAwait(false);
            return frame;
        }

        public async ValueTask<Frame?> ReadPpmAsync(string source)
        {
            if (await ReadAsync(_one).ConfigureAwait(false) == 0)
            {
                return null;
            }

            var timestamp = Clock.NowNs();
            var header = new StringBuilder().Append((char)_one[0]);
            var fields = 0;
            while (fields < 4)
            {
                if (await ReadAsync(_one).ConfigureAwait(false) == 0)
                {
                    throw new EndOfStreamException("ffmpeg stopped inside a frame header");
                }

                var c = (char)_one[0];
                if (char.IsWhiteSpace(c))
                {
                    if (!char.IsWhiteSpace(header[^1]))
                    {
                        fields++;
                    }
                }

                if (header.Length > 64)
                {
                    throw new InvalidDataException("ffmpeg wrote an unreadable frame header");
                }

                header.Append(c);
            }

            var parts = header.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts is not ["P6", var w, var h, "255"] || !int.TryParse(w, out var width) || !int.TryParse(h, out var height))
            {
                throw new InvalidDataException($"ffmpeg wrote an unexpected frame header '{header.ToString().Trim()}'");
            }

            var frame = Frame.Rent(width, height, PixelFormat.Rgb24, timestamp, source);
            await FillAsync(frame, 0).ConfigureAwait(false);
            return frame;
        }

        public void Dispose()
        {
            _timeout.Dispose();
            _stream.Dispose();
        }

        private async ValueTask FillAsync(Frame frame, int from)
        {
            try
            {
                var total = frame.Stride * frame.Height;
                while (from < total)
                {
                    var n = await ReadAsync(frame.Memory[from..]).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new EndOfStreamException($"ffmpeg stopped {total - from} bytes into a {frame.Width}x{frame.Height} frame");
                    }

                    from += n;
                }
            }
            catch
            {
                frame.Dispose();
                throw;
            }
        }

        private async ValueTask<int> ReadAsync(Memory<byte> into)
        {
            _timeout.CancelAfter(stall);
            try
            {
                return await _stream.ReadAsync(into, _timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new TimeoutException($"no frame from ffmpeg for {stall.TotalSeconds:0.#} s: the stream stalled");
            }
            finally
            {
                _timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }
}
