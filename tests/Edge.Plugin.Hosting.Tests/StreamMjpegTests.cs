using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;
using static Edge.Plugin.Hosting.Tests.StreamServers;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>MJPEG over HTTP and snapshot URLs, against ffmpeg and a Python camera on loopback.</summary>
public sealed class StreamMjpegTests
{
    private static string SkyJpeg => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Mjpeg_FramesArrive_DecodedAtTargetSize_StampedBeforeDecode(bool multipartHeader)
    {
        var port = Ports.Free();
        using var camera = ServerProcess.MjpegCamera(port, multipartHeader: multipartHeader);
        camera.Start();
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/live", FastRetry(width: 160, height: 120));

        // 320x240 at a 160x120 target decodes at 1/2 scale in the DCT domain.
        await ReadStampedFramesAsync(source, 5, 160, 120);

        Assert.Equal("mjpeg", source.Kind);
        Assert.Equal(SourceState.Healthy, source.Health.State);
        // Attempts refused while ffmpeg was still starting may count as disconnects; once connected it never dropped.
        Assert.Equal(0, source.Health.Reconnects);
    }

    [Fact]
    public async Task Mjpeg_ServerKilledAndRestarted_Reconnects_CountsIt_FramesContinue()
    {
        var port = Ports.Free();
        using var camera = ServerProcess.MjpegCamera(port);
        camera.Start();
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/live", FastRetry());
        for (var i = 0; i < 3; i++)
        {
            using var frame = await NextAsync(source);
        }

        // A busy machine may start ffmpeg after the source's first attempts, which count as disconnects too.
        var connectedAfter = source.Health.Disconnects;
        camera.Kill();
        await Poll.UntilAsync(() => source.Health.Disconnects >= connectedAfter + 2, TimeSpan.FromSeconds(60), "the source notices the camera is gone and fails to reconnect");
        Assert.NotEqual(SourceState.Healthy, source.Health.State);
        Assert.NotNull(source.Health.LastError);
        await Poll.UntilAsync(() => source.Health.State == SourceState.Down, TimeSpan.FromSeconds(60), "the source is down while the camera is gone");

        var restarted = Clock.NowNs();
        camera.Start();
        using var after = await NextAsync(source);
        // Drain anything grabbed before the kill that was still waiting in the slot.
        using var next = await NextAsync(source);

        Assert.True(next.TimestampNs > restarted, "frames continue from the restarted camera");
        Assert.Equal(1, source.Health.Reconnects);
        Assert.True(source.Health.Disconnects >= connectedAfter + 3);
        Assert.Equal(SourceState.Healthy, source.Health.State);
    }

    [Fact]
    public async Task Mjpeg_SlowPlugin_GetsFreshFrame_StaleOnesDroppedUndecodedAndCounted()
    {
        var port = Ports.Free();
        using var camera = ServerProcess.MjpegCamera(port, fps: 20);
        camera.Start();
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/live", FastRetry());
        using (await NextAsync(source))
        {
        }

        for (var i = 0; i < 2; i++)
        {
            var slept = Clock.NowNs();
            await Task.Delay(TimeSpan.FromSeconds(2));
            using var frame = await NextAsync(source);

            // The frame handed over is the newest one, grabbed late in the plugin's sleep, not the oldest
            // (about 50 ms into it at 20 fps); the margin allows a busy machine to starve the grab loop for a while.
            Assert.True(frame.TimestampNs > slept + 250_000_000L, $"the frame was grabbed {(frame.TimestampNs - slept) / 1e6:F0} ms into a 2 s sleep: from the backlog, not the newest");
        }

        Assert.Equal(3, source.Decoded);
        Assert.True(source.Health.Dropped >= 20, $"dropped {source.Health.Dropped}");
        Assert.True(source.Health.Frames >= source.Health.Dropped + 3);
    }

    [Fact]
    public async Task Mjpeg_OddCamera_NoContentLength_DashedBoundary_CorruptPartSkipped()
    {
        var port = Ports.Free();
        using var camera = new ServerProcess("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "StreamServer.py"), port.ToString(), SkyJpeg);
        camera.Start();
        await WaitForPortAsync(port);
        var options = FastRetry();
        options.Capacity = 2;
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/odd", options);

        var good = 0;
        var corrupt = new List<string>();
        while (good < 4)
        {
            try
            {
                using var frame = await NextAsync(source);
                Assert.Equal((320, 240), (frame.Width, frame.Height));
                good++;
            }
            catch (FrameSourceException e)
            {
                corrupt.Add(e.Message);
            }
        }

        Assert.Equal("mjpeg", source.Kind);
        Assert.True(corrupt.Count <= 1);
        Assert.All(corrupt, m => Assert.Contains("JPEG", m, StringComparison.Ordinal));
        Assert.Equal(0, source.Health.Disconnects);
    }

    [Fact]
    public async Task Snapshot_FetchedOnDemand_OnePerRead()
    {
        var port = Ports.Free();
        using var camera = new ServerProcess("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "StreamServer.py"), port.ToString(), SkyJpeg);
        camera.Start();
        await WaitForPortAsync(port);
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/snapshot", FastRetry(width: 80, height: 60));

        using var first = await NextAsync(source);
        await Task.Delay(500);
        using var second = await NextAsync(source);

        Assert.Equal("snapshot", source.Kind);
        Assert.Equal((80, 60), (first.Width, first.Height));
        Assert.True(second.TimestampNs > first.TimestampNs);
        // Fetched on demand: nothing grabbed but what was read, nothing dropped.
        Assert.Equal(0, source.Health.Dropped);
        Assert.Equal(source.Decoded, source.Health.Frames);
    }

    [Fact]
    public async Task Snapshot_NotFound_RetriesWithBackoff_GoesDown_NeverThrows()
    {
        var port = Ports.Free();
        using var camera = new ServerProcess("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "StreamServer.py"), port.ToString(), SkyJpeg);
        camera.Start();
        await WaitForPortAsync(port);
        await using var source = (HttpFrameSource)FrameSources.Create($"http://127.0.0.1:{port}/missing.jpg", FastRetry());

        using var wait = new CancellationTokenSource();
        var read = source.ReadAsync(wait.Token).AsTask();
        await Poll.UntilAsync(() => source.Health.State == SourceState.Down, TimeSpan.FromSeconds(60), "the source is down after repeated 404s");
        await wait.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Contains("404", source.Health.LastError, StringComparison.Ordinal);
        Assert.True(source.Health.Disconnects >= 3);
        Assert.Equal(0, source.Health.Reconnects);
    }
}
