using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;
using static Edge.Plugin.Hosting.Tests.StreamServers;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>snapshot() and record(duration), against the test pattern and a real MJPEG camera.</summary>
public sealed class InputsCaptureTests
{
    [Fact]
    public async Task Snapshot_FromMjpegCamera_OneFreshFrame()
    {
        var port = Ports.Free();
        using var camera = ServerProcess.MjpegCamera(port);
        camera.Start();
        var before = Clock.NowNs();

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var frame = await FrameCapture.SnapshotAsync($"http://127.0.0.1:{port}/live", FastRetry(), cancellationToken: cancel.Token);

        Assert.Equal((320, 240), (frame.Width, frame.Height));
        Assert.True(frame.TimestampNs >= before);
    }

    [Fact]
    public async Task Record_YieldsFramesForTheDuration_ThenStops()
    {
        var frames = new List<long>();
        await foreach (var frame in FrameCapture.RecordAsync("pattern://?fps=20&width=32&height=24", TimeSpan.FromSeconds(1)))
        {
            using (frame)
            {
                frames.Add(frame.TimestampNs);
            }
        }

        // 20 fps for 1 s: about 20 frames. A starved machine may grab only a few (4 were seen with two
        // busy loops beside the suite), but never more than the duration allows.
        Assert.InRange(frames.Count, 2, 22);
        Assert.True(frames[^1] - frames[0] <= 1_000_000_000L);
        Assert.Equal(frames.Order(), frames);
    }

    [Fact]
    public async Task Snapshot_EmptyPattern_SaysNoFrames()
    {
        var finite = "pattern://?frames=1&width=8&height=8";
        using (await FrameCapture.SnapshotAsync(finite))
        {
        }

        var error = await Assert.ThrowsAsync<ArgumentException>(() => FrameCapture.SnapshotAsync("pattern://?frames=0"));
        Assert.Contains("frames", error.Message, StringComparison.Ordinal);
    }
}
