using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3.Tests;

/// <summary>The store going away, before or during a fetch, against a real s3rver: each test stops its server, so each starts its own.</summary>
public sealed class S3OutageTests() : S3TestBase(shared: null)
{
    [Fact]
    public async Task ServerDownAtStart_TheLastVerifiedVersionIsUsed_AndTheLogSaysSo()
    {
        await PutAsync("2024-01-01/model.data", "cached"u8.ToArray());
        var reference = S3Uri("latest/model.data");
        string online;
        await using (var before = Bed())
        {
            online = await before.FetchAsync(reference);
        }

        Server.Kill();
        await using var after = Bed(s3: o => o.MaxRetries = 0);
        var offline = await after.FetchAsync(reference);

        Assert.Equal(online, offline);
        Assert.Equal("cached", await File.ReadAllTextAsync(offline));
        Assert.True(after.Logs.Contains(LogLevel.Warning, "OFFLINE"), after.Logs.ToString());
        Assert.Equal(0, after.Source("s3").Downloads);
    }

    [Fact]
    public async Task ServerDownAtStart_WithNothingCached_FailsNamingTheReferenceAndCache()
    {
        Server.Kill();
        await using var bed = Bed(s3: o => o.MaxRetries = 0);

        var error = await Assert.ThrowsAsync<IOException>(() => bed.FetchAsync(S3Uri("m.onnx")));

        Assert.Contains(S3Uri("m.onnx"), error.Message, StringComparison.Ordinal);
        Assert.Contains(Cache, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerKilledMidDownload_TheDownloadResumesWithARange_AndIsVerified()
    {
        var content = StorageBed.RandomBytes(48 << 20, seed: 5);
        var key = "big.onnx";
        await PutAsync(key, content, StorageBed.Sha256(content));

        // A bandwidth cap (a real setting for shared links) makes the download last long enough to cut.
        await using var bed = Bed(o =>
        {
            o.MaxBytesPerSecond = 12L << 20;
            o.ProgressInterval = TimeSpan.FromSeconds(1);
        });
        var fetch = bed.FetchAsync(S3Uri(key));
        var partialFolder = Path.Combine(Cache, "partial");
        await Poll.UntilAsync(() => Directory.Exists(partialFolder) && Directory.GetFiles(partialFolder).Any(f => new FileInfo(f).Length > 8 << 20), TimeSpan.FromSeconds(60), "over 8 MiB of the download is in the partial folder");

        Server.Kill();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await Server.RestartAsync();
        var path = await fetch.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(StorageBed.Sha256(content), StorageBed.Sha256(path));
        var broke = bed.Logs.Lines.First(l => l.Message.Contains("broke at byte", StringComparison.Ordinal) && l.Level == LogLevel.Warning).Message;
        Assert.DoesNotContain("broke at byte 0 ", broke, StringComparison.Ordinal);
        Assert.False(bed.Logs.Contains(LogLevel.Warning, "answered from its start"), bed.Logs.ToString());
        Assert.True(bed.Logs.Contains(LogLevel.Information, "MiB/s, ETA"), bed.Logs.ToString());
        Assert.Equal(1, bed.Source("s3").Downloads);
    }
}
