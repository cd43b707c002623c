using System.Diagnostics;
using System.Net;
using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>A snapshot camera read by a plugin with no interval is asked at most once per Inputs:SnapshotInterval.</summary>
public sealed class SnapshotPacingTests
{
    [Fact]
    public async Task PluginThatReadsAsFastAsItCan_AsksTheCameraAtMostOncePerSnapshotInterval()
    {
        var jpeg = await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"));
        var port = Ports.Free();
        using var camera = new HttpListener();
        camera.Prefixes.Add($"http://127.0.0.1:{port}/");
        camera.Start();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var context = await camera.GetContextAsync();
                Interlocked.Increment(ref requests);
                context.Response.ContentType = "image/jpeg";
                await context.Response.OutputStream.WriteAsync(jpeg);
                context.Response.Close();
            }
        });

        await using (var source = FrameSources.Create($"http://127.0.0.1:{port}/snapshot", new InputOptions { SnapshotInterval = TimeSpan.FromSeconds(1) }))
        {
            var clock = Stopwatch.StartNew();
            var frames = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var frame = await StreamServers.NextAsync(source);
                frames++;
            }

            // Unpaced, a loopback camera answers thousands of times in 3 s; paced, one request a second
            // (a loaded machine only makes it fewer).
            Assert.InRange(Volatile.Read(ref requests), 2, 5);
            Assert.Equal(frames, Volatile.Read(ref requests));
        }

        stop.Cancel();
        camera.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => serving);
    }
}
