using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>
/// A store that stops sending but keeps the connection open, against a real loopback HTTP server:
/// the read-inactivity timeout must turn the silence into a resumable failure.
/// </summary>
public sealed class StalledDownloadTests : IDisposable
{
    private const int StallAfter = 300_000;

    // The whole fetch must finish well inside this; it guards against a hang, it does not time anything.
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private readonly string _cache = Directory.CreateTempSubdirectory("model-cache-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Fact]
    public async Task StalledBody_IsAbortedAfterTheReadTimeout_AndResumedWithARangeRequest()
    {
        var content = StorageBed.RandomBytes(3 << 20, seed: 11);
        await using var server = new StallingHttpServer(content, "\"v1\"") { StallAfter = StallAfter, StallsLeft = 1 };
        await using var bed = Bed(resumeWindow: TimeSpan.FromSeconds(60));
        var url = server.Url("detector.onnx");

        var path = await bed.FetchAsync(url).WaitAsync(Hang);

        Assert.Equal(StorageBed.Sha256(content), StorageBed.Sha256(path));
        // The first two requests are the whole body and the resume from the stall; a busy machine may pause
        // the in-process server past the 1 s timeout once more, which only adds a later resume.
        Assert.Equal(["", $"bytes={StallAfter}-"], server.Ranges.Take(2));
        Assert.True(
            bed.Logs.Contains(LogLevel.Error, $"Download of {url} stalled: no bytes for 1.0 s (Storage:ReadTimeout) with the connection still open; {StallAfter} bytes arrived on this attempt"),
            bed.Logs.ToString());
        Assert.True(bed.Logs.Contains(LogLevel.Information, $"Verified {url}"), bed.Logs.ToString());
    }

    // A stall that sends no bytes: bytes that do arrive count as progress and restart Storage:ResumeWindow.
    [Fact]
    public async Task BodyThatAlwaysStalls_FailsClearly_WhenNothingIsCached()
    {
        await using var server = new StallingHttpServer(StorageBed.RandomBytes(1 << 20, seed: 12), "\"v1\"") { StallAfter = 0, StallsLeft = int.MaxValue };
        await using var bed = Bed(resumeWindow: TimeSpan.FromSeconds(3));
        var url = server.Url("detector.onnx");

        var error = await Assert.ThrowsAsync<IOException>(() => bed.FetchAsync(url).WaitAsync(Hang));

        Assert.Contains($"Model {url} could not be fetched", error.Message, StringComparison.Ordinal);
        Assert.Contains("did not resume within 00:00:03 (Storage:ResumeWindow)", error.Message, StringComparison.Ordinal);
        Assert.Contains("the connection stalled", error.Message, StringComparison.Ordinal);

        // It was retried (with backoff) before it gave up; headers but never a byte, so nothing to resume from.
        Assert.True(server.Ranges.Count >= 2, string.Join(", ", server.Ranges));
        Assert.All(server.Ranges, r => Assert.Equal("", r));
    }

    [Fact]
    public async Task NewVersionThatStalls_LeavesTheCachedVersionServing_AndSaysOffline()
    {
        var v1 = StorageBed.RandomBytes(1 << 20, seed: 13);
        await using var server = new StallingHttpServer(v1, "\"v1\"");
        await using var bed = Bed(resumeWindow: TimeSpan.FromSeconds(3));
        var url = server.Url("detector.onnx");
        var first = await bed.FetchAsync(url).WaitAsync(Hang);
        Assert.Equal(StorageBed.Sha256(v1), StorageBed.Sha256(first));

        server.Content = StorageBed.RandomBytes(1 << 20, seed: 14);
        server.ETag = "\"v2\"";
        server.StallAfter = 0;
        server.StallsLeft = int.MaxValue;
        var second = await bed.FetchAsync(url).WaitAsync(Hang);

        Assert.Equal(first, second);
        Assert.Equal(StorageBed.Sha256(v1), StorageBed.Sha256(second));
        Assert.True(bed.Logs.Contains(LogLevel.Warning, $"OFFLINE: model store unreachable for {url}"), bed.Logs.ToString());
        Assert.True(bed.Logs.Contains(LogLevel.Error, $"Download of {url} stalled"), bed.Logs.ToString());
    }

    private StorageBed Bed(TimeSpan resumeWindow) => new(_cache, o =>
    {
        o.ReadTimeout = TimeSpan.FromSeconds(1);
        o.ResumeWindow = resumeWindow;
    });
}
