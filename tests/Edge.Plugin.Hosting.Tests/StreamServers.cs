using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>Real stream servers on loopback for the input tests: ffmpeg as an MJPEG camera, and a Python one.</summary>
internal static class StreamServers
{
    /// <summary>Options that make tests quick to notice and recover from an outage, without being timing-sensitive.</summary>
    public static InputOptions FastRetry(int width = 0, int height = 0) => new()
    {
        Width = width,
        Height = height,
        ReconnectDelay = TimeSpan.FromSeconds(0.2),
        MaxReconnectDelay = TimeSpan.FromSeconds(1),
        StallTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Reads a frame, failing the test (rather than hanging) if none comes within a generous time.</summary>
    public static async Task<Frame> NextAsync(IFrameSource source, int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await source.ReadAsync(timeout.Token) ?? throw new InvalidOperationException($"{source.Description} ended");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame from {source.Description} in {seconds} s; health {(source as IFrameSourceHealth)?.Health}");
        }
    }

    /// <summary>
    /// Reads frames and checks each is of the size asked for and stamped at grab time: after
    /// <paramref name="afterNs"/>, later than the one before, never in the future.
    /// </summary>
    public static async Task ReadStampedFramesAsync(IFrameSource source, int count, int width, int height, long afterNs = 0)
    {
        var previous = afterNs;
        for (var i = 0; i < count; i++)
        {
            using var frame = await NextAsync(source);
            Assert.Equal((width, height, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
            Assert.True(frame.TimestampNs > previous, "grab times increase");
            Assert.True(frame.TimestampNs <= Clock.NowNs());
            previous = frame.TimestampNs;
        }
    }

    /// <summary>Waits for a multi-client server (not ffmpeg's single-client one, which a probe would use up).</summary>
    public static Task WaitForPortAsync(int port) => Poll.UntilAsync(
        async () =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        },
        TimeSpan.FromSeconds(30),
        $"something listens on 127.0.0.1:{port}");
}

/// <summary>A child process that the test may kill and restart; always killed on dispose.</summary>
internal sealed class ServerProcess(string program, params string[] args) : IDisposable
{
    private Process? _process;

    public bool Running => _process is { HasExited: false };

    public void Start()
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public void Kill()
    {
        if (_process is { } p)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }

            p.Dispose();
            _process = null;
        }
    }

    public void Dispose() => Kill();

    /// <summary>
    /// An RTSP camera serving rtsp://127.0.0.1:PORT/live (RTP/JPEG, 10 fps) through GStreamer's RTSP server:
    /// ffmpeg cannot be one, its RTSP muxer only pushes and <c>-rtsp_flags listen</c> only receives.
    /// </summary>
    public static ServerProcess RtspCamera(int port, int width = 320, int height = 240) =>
        new("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "RtspServer.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{width}x{height}");

    /// <summary>ffmpeg serving a moving test pattern as MJPEG over HTTP, like a Waggle node camera.</summary>
    public static ServerProcess MjpegCamera(int port, int width = 320, int height = 240, int fps = 15, bool multipartHeader = true)
    {
        List<string> args = ["-v", "error", "-re", "-f", "lavfi", "-i", $"testsrc2=s={width}x{height}:r={fps}", "-q:v", "5", "-f", "mpjpeg"];
        if (multipartHeader)
        {
            // Real cameras say multipart/x-mixed-replace; ffmpeg says application/octet-stream unless told.
            args.AddRange(["-content_type", "multipart/x-mixed-replace;boundary=ffmpeg"]);
        }

        args.AddRange(["-listen", "1", $"http://127.0.0.1:{port}/live"]);
        return new ServerProcess("ffmpeg", [.. args]);
    }
}
