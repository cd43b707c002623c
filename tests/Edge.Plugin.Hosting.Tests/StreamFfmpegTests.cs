using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;
using static Edge.Plugin.Hosting.Tests.StreamServers;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>Video files and network streams through a real ffmpeg child process.</summary>
public sealed class StreamFfmpegTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-video-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Video(int seconds = 2, int fps = 10, string size = "320x240")
    {
        var path = Path.Combine(_folder, "clip.mp4");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", $"testsrc2=s={size}:r={fps}:d={seconds}", "-c:v", "mpeg4", "-q:v", "4", "-y", path]);
        return path;
    }

    [Fact]
    public async Task VideoFile_EveryFrameInOrder_AtTheRequestedSize_ThenEnds()
    {
        await using var source = FrameSources.Create(Video(), new InputOptions { Width = 64, Height = 48 });
        Assert.IsType<FfmpegFrameSource>(source);

        var frames = 0;
        var previous = 0L;
        while (await source.ReadAsync(default) is { } frame)
        {
            using (frame)
            {
                Assert.Equal((64, 48, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
                Assert.True(frame.TimestampNs > previous);
                previous = frame.TimestampNs;
                frames++;
            }
        }

        // A file is finite and nothing is dropped: all 2 s x 10 fps arrive.
        Assert.Equal(20, frames);
        Assert.Equal(0, ((FfmpegFrameSource)source).Health.Dropped);
    }

    [Fact]
    public async Task VideoFile_NoSizeRequested_NativeSize_MatchesFfmpegPixels()
    {
        var path = Video(seconds: 1, fps: 5, size: "96x72");
        await using var source = FrameSources.Create(path);
        var reference = Tool.RunBinary("ffmpeg", ["-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);

        using var first = await NextAsync(source);

        Assert.Equal((96, 72), (first.Width, first.Height));
        Assert.Equal(reference, first.Pixels.ToArray());
    }

    [Fact]
    public async Task VideoFile_Loop_StartsAgain()
    {
        await using var source = FrameSources.Create(Video(seconds: 1, fps: 10), new InputOptions { Width = 32, Height = 24, Loop = true });

        for (var i = 0; i < 25; i++)
        {
            using var frame = await NextAsync(source);
        }

        Assert.Equal(0, ((FfmpegFrameSource)source).Health.Disconnects);
    }

    [Fact]
    public async Task VideoFile_Corrupt_ClearErrorThenEnd()
    {
        var path = Path.Combine(_folder, "broken.mp4");
        await File.WriteAllBytesAsync(path, new byte[4096]);
        await using var source = FrameSources.Create(path, new InputOptions { Width = 32, Height = 24 });

        var error = await Assert.ThrowsAsync<FrameSourceException>(async () => await source.ReadAsync(default));

        Assert.Contains("ffmpeg exited", error.Message, StringComparison.Ordinal);
        Assert.Contains("broken.mp4", error.Message, StringComparison.Ordinal);
        Assert.Null(await source.ReadAsync(default));
    }

    [Fact]
    public async Task Stream_ServerKilledAndRestarted_FfmpegRestarted_FramesContinue()
    {
        var port = Ports.Free();
        using var camera = ServerProcess.MjpegCamera(port);
        camera.Start();
        // Any ffmpeg-read stream behaves alike; an HTTP MJPEG camera is the one we can serve and kill here.
        await using var source = new FfmpegFrameSource($"http://127.0.0.1:{port}/live", FfmpegInput.Stream, FastRetry(width: 64, height: 48), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using (await NextAsync(source))
        {
        }

        var connectedAfter = source.Health.Disconnects;
        camera.Kill();
        await Poll.UntilAsync(() => source.Health.Disconnects > connectedAfter, TimeSpan.FromSeconds(60), "ffmpeg's exit is noticed");
        Assert.Contains("ffmpeg exited", source.Health.LastError, StringComparison.Ordinal);
        var restarted = Clock.NowNs();
        camera.Start();
        using var first = await NextAsync(source);
        using var next = await NextAsync(source);

        Assert.True(next.TimestampNs > restarted);
        Assert.Equal(1, source.Health.Reconnects);
        Assert.Equal((64, 48), (next.Width, next.Height));
    }

    [Fact]
    public async Task Rtsp_OverTcp_FramesStampedAtGrab_ServerKilledAndRestarted_Reconnects()
    {
        var port = Ports.Free();
        using var camera = ServerProcess.RtspCamera(port);
        camera.Start();
        var url = $"rtsp://127.0.0.1:{port}/live";
        await WaitForPortAsync(port);
        var started = Clock.NowNs();
        await using var source = (FfmpegFrameSource)FrameSources.Create(url, FastRetry(width: 64, height: 48));
        Assert.Equal(["-rtsp_transport", "tcp"], source.Arguments.Skip(4).Take(2));

        // Stamped when each frame came off ffmpeg's pipe, after the source opened.
        await ReadStampedFramesAsync(source, 5, 64, 48, afterNs: started);

        Assert.Equal(SourceState.Healthy, source.Health.State);
        var connectedAfter = source.Health.Disconnects;
        camera.Kill();
        await Poll.UntilAsync(() => source.Health.Disconnects >= connectedAfter + 2, TimeSpan.FromSeconds(60), "the source notices the camera is gone and fails to reconnect");
        Assert.NotEqual(SourceState.Healthy, source.Health.State);
        Assert.Contains("ffmpeg exited", source.Health.LastError, StringComparison.Ordinal);

        var restarted = Clock.NowNs();
        camera.Start();
        using var after = await NextAsync(source);
        // Drain anything grabbed before the kill that was still waiting in the slot.
        using var next = await NextAsync(source);

        Assert.True(next.TimestampNs > restarted, "frames continue from the restarted camera");
        Assert.Equal((64, 48), (next.Width, next.Height));
        Assert.Equal(1, source.Health.Reconnects);
        Assert.Equal(SourceState.Healthy, source.Health.State);
    }

    [Fact]
    public void MissingFfmpeg_NamesTheDebianPackage()
    {
        var error = Assert.Throws<NotSupportedException>(() => FfmpegFrameSource.Locate("rtsp://camera/stream", _folder));

        Assert.Contains("apt-get install ffmpeg", error.Message, StringComparison.Ordinal);
        Assert.Contains("rtsp://camera/stream", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RtspUrl_PasswordKeptOutOfDescription_TcpTransport()
    {
        var source = (FfmpegFrameSource)FrameSources.Create("rtsp://admin:secret@10.0.0.5:554/stream1", new InputOptions { Width = 224, Height = 224 });

        Assert.DoesNotContain("secret", source.Description, StringComparison.Ordinal);
        Assert.Equal(["-rtsp_transport", "tcp"], source.Arguments.Skip(4).Take(2));
        Assert.Equal(["-s", "224x224", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], source.Arguments.TakeLast(7));
    }

    [Fact]
    public void MissingVideoDevice_SaysSo()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FrameSources.Create("/dev/video97"));

        Assert.Contains("/dev/video97", error.Message, StringComparison.Ordinal);
    }
}
