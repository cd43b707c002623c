using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>Fetching through the cache from a real s3rver on loopback; each test uses its own key space and cache.</summary>
public sealed class S3ModelSourceTests : S3TestBase
{
    [Fact]
    public async Task Latest_PicksTheNewestTimestampedFolder()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-01-05T10-00-00/model.data", "january"u8.ToArray());
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-03-01T09-30-00/model.data", "march"u8.ToArray());
        await StorageBed.PutAsync(Server, $"{Prefix}/2023-12-31T23-59-59/model.data", "december"u8.ToArray());
        await StorageBed.PutAsync(Server, $"{Prefix}/notes/model.data", "not a version"u8.ToArray());
        await using var bed = new StorageBed(Server, Cache);

        var path = await bed.FetchAsync($"s3://models/{Prefix}/latest/model.data");

        Assert.Equal("march", await File.ReadAllTextAsync(path));
        Assert.Equal("model.data", Path.GetFileName(path));
    }

    [Fact]
    public async Task Latest_WithoutFileName_TakesTheFoldersOnlyObject()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/1700000000/model.data", "old"u8.ToArray());
        await StorageBed.PutAsync(Server, $"{Prefix}/1800000000/model.data", "new"u8.ToArray());
        await using var bed = new StorageBed(Server, Cache);

        var path = await bed.FetchAsync($"s3://models/{Prefix}/latest");

        Assert.Equal("new", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task UnchangedObject_IsServedFromTheCache_WithoutASecondDownload()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", "v1"u8.ToArray());
        await using var bed = new StorageBed(Server, Cache);

        var first = await bed.FetchAsync($"s3://models/{Prefix}/m.onnx");
        var second = await bed.FetchAsync($"s3://models/{Prefix}/m.onnx");

        Assert.Equal(first, second);
        Assert.Equal(1, bed.Source("s3").Downloads);
        Assert.Contains(StorageBed.Sha256("v1"u8.ToArray()), first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewVersionInTheStore_IsFetchedOnTheNextCheck()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-01-01/model.data", "one"u8.ToArray());
        await using var bed = new StorageBed(Server, Cache);
        var reference = $"s3://models/{Prefix}/latest/model.data";
        var first = await bed.FetchAsync(reference);

        await StorageBed.PutAsync(Server, $"{Prefix}/2024-02-01/model.data", "two"u8.ToArray());
        var second = await bed.FetchAsync(reference);

        Assert.Equal("one", await File.ReadAllTextAsync(first));
        Assert.Equal("two", await File.ReadAllTextAsync(second));
        Assert.Equal(2, bed.Source("s3").Downloads);
    }

    [Fact]
    public async Task Sha256MetadataMismatch_IsRejected_AndThePreviousVersionKeepsServing()
    {
        var good = "good model"u8.ToArray();
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-01-01/model.data", good, StorageBed.Sha256(good));
        await using var bed = new StorageBed(Server, Cache);
        var reference = $"s3://models/{Prefix}/latest/model.data";
        var kept = await bed.FetchAsync(reference);

        var tampered = "tampered model"u8.ToArray();
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-02-01/model.data", tampered, StorageBed.Sha256("what was published"u8.ToArray()));
        var after = await bed.FetchAsync(reference);

        Assert.Equal(kept, after);
        Assert.Equal("good model", await File.ReadAllTextAsync(after));
        Assert.Equal([StorageBed.Sha256(good)], bed.CachedHashes());
        Assert.True(bed.Logs.Contains(LogLevel.Warning, StorageBed.Sha256(tampered)), bed.Logs.ToString());
        Assert.True(bed.Logs.Contains(LogLevel.Warning, "Keeping the previous verified version"), bed.Logs.ToString());
        Assert.Empty(Directory.GetFiles(Path.Combine(Cache, "partial")));
    }

    [Fact]
    public async Task PinnedSha256Mismatch_WithNoPreviousVersion_FailsNamingBothHashes()
    {
        var content = "some model"u8.ToArray();
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", content);
        await using var bed = new StorageBed(Server, Cache);
        var pin = new string('a', 64);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => bed.FetchAsync($"s3://models/{Prefix}/m.onnx#sha256={pin}"));

        Assert.Contains(pin, error.Message, StringComparison.Ordinal);
        Assert.Contains(StorageBed.Sha256(content), error.Message, StringComparison.Ordinal);
        Assert.Empty(bed.CachedHashes());
    }

    [Fact]
    public async Task PinnedSha256Match_IsAccepted()
    {
        var content = "pinned model"u8.ToArray();
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", content);
        await using var bed = new StorageBed(Server, Cache);

        var path = await bed.FetchAsync($"s3://models/{Prefix}/m.onnx#sha256={StorageBed.Sha256(content)}");

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task ServerDownAtStart_TheLastVerifiedVersionIsUsed_AndTheLogSaysSo()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/2024-01-01/model.data", "cached"u8.ToArray());
        var reference = $"s3://models/{Prefix}/latest/model.data";
        string online;
        await using (var before = new StorageBed(Server, Cache))
        {
            online = await before.FetchAsync(reference);
        }

        Server.Kill();
        await using var after = new StorageBed(Server, Cache, o => o.S3.MaxRetries = 0);
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
        await using var bed = new StorageBed(Server, Cache, o => o.S3.MaxRetries = 0);

        var error = await Assert.ThrowsAsync<IOException>(() => bed.FetchAsync($"s3://models/{Prefix}/m.onnx"));

        Assert.Contains($"s3://models/{Prefix}/m.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains(Cache, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingObject_IsFileNotFound_NamingTheKey()
    {
        await using var bed = new StorageBed(Server, Cache);

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => bed.FetchAsync($"s3://models/{Prefix}/absent.onnx"));

        Assert.Contains($"{Prefix}/absent.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerKilledMidDownload_TheDownloadResumesWithARange_AndIsVerified()
    {
        var content = StorageBed.RandomBytes(48 << 20, seed: 5);
        var key = $"{Prefix}/big.onnx";
        await StorageBed.PutAsync(Server, key, content, StorageBed.Sha256(content));

        // A bandwidth cap (a real setting for shared links) makes the download last long enough to cut.
        await using var bed = new StorageBed(Server, Cache, o =>
        {
            o.MaxBytesPerSecond = 12L << 20;
            o.ProgressInterval = TimeSpan.FromSeconds(1);
        });
        var fetch = bed.FetchAsync($"s3://models/{key}");
        var partialFolder = Path.Combine(Cache, "partial");
        await WaitUntil(() => Directory.Exists(partialFolder) && Directory.GetFiles(partialFolder).Any(f => new FileInfo(f).Length > 8 << 20), TimeSpan.FromSeconds(60));

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

    [Fact]
    public async Task PartialFileFromAnEarlierProcess_IsResumedNotRestarted()
    {
        var content = StorageBed.RandomBytes(6 << 20, seed: 7);
        var key = $"{Prefix}/resume.onnx";
        await StorageBed.PutAsync(Server, key, content);
        await using (var first = new StorageBed(Server, Cache, o => o.MaxBytesPerSecond = 2L << 20))
        {
            using var stop = new CancellationTokenSource();
            var fetch = first.FetchAsync($"s3://models/{key}", stop.Token);
            await WaitUntil(() => Directory.Exists(Path.Combine(Cache, "partial")) && Directory.GetFiles(Path.Combine(Cache, "partial")).Any(f => new FileInfo(f).Length > 1 << 20), TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch);
        }

        await using var second = new StorageBed(Server, Cache);
        var path = await second.FetchAsync($"s3://models/{key}");

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.True(second.Logs.Contains(LogLevel.Information, "Resuming"), second.Logs.ToString());
    }

    [Fact]
    public async Task TwoProcessesFetchingAtOnce_DownloadOnce_AndShareTheFile()
    {
        var content = StorageBed.RandomBytes(16 << 20, seed: 9);
        var key = $"{Prefix}/shared.onnx";
        await StorageBed.PutAsync(Server, key, content);
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var tool = Path.Combine(RepoPaths.Root, "tests", "Edge.Storage.Tests", "FetchTool", "bin", configuration, "net10.0", "Edge.Storage.FetchTool.dll");
        Assert.True(File.Exists(tool), $"fetch tool not built at {tool}");

        // 2 MB/s: the first download lasts about eight seconds, so the second process starts during it even
        // when a busy machine starts the two processes seconds apart.
        string[] args = [tool, Server.Endpoint, Cache, $"s3://models/{key}", (2L << 20).ToString()];
        var runs = await Task.WhenAll(Task.Run(() => Tool.Run("dotnet", ["exec", .. args])), Task.Run(() => Tool.Run("dotnet", ["exec", .. args])));

        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        var lines = runs.Select(r => r.StandardOutput.Trim()).ToArray();
        var downloads = lines.Sum(l => int.Parse(l.Split(' ')[0]["downloads=".Length..]));
        Assert.True(downloads == 1, string.Join("\n", runs.Select(r => r.ToString())));
        var paths = lines.Select(l => l[(l.IndexOf("path=", StringComparison.Ordinal) + 5)..]).Distinct().ToArray();
        Assert.Single(paths);
        Assert.Equal(content, await File.ReadAllBytesAsync(paths[0]));
        Assert.Contains(runs, r => r.StandardError.Contains("Waiting for another process", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Eviction_DropsTheLeastRecentlyUsedModel_WhenTheCacheIsFull()
    {
        var size = 1 << 20;
        var limit = (long)(size * 2.5);
        var hashes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var content = StorageBed.RandomBytes(size, seed: 100 + i);
            hashes.Add(StorageBed.Sha256(content));
            await StorageBed.PutAsync(Server, $"{Prefix}/m{i}.onnx", content);

            // One bed per fetch: a fresh process, which holds no model in use but its own.
            await using var bed = new StorageBed(Server, Cache, o => o.Cache.MaxBytes = limit);
            await bed.FetchAsync($"s3://models/{Prefix}/m{i}.onnx");
            await Task.Delay(50);
        }

        await using var check = new StorageBed(Server, Cache);
        Assert.Equal(hashes.Skip(1).Order(StringComparer.Ordinal), check.CachedHashes());
    }
}
