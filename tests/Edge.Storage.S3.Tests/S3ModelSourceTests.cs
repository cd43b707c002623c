using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.S3.Tests;

/// <summary>Fetching through the cache from a real s3rver on loopback, shared by the class; each test has its own bucket and cache.</summary>
public sealed class S3ModelSourceTests(S3ServerFixture fixture) : S3TestBase(fixture), IClassFixture<S3ServerFixture>
{
    [Fact]
    public async Task Latest_PicksTheNewestTimestampedFolder()
    {
        await PutAsync("2024-01-05T10-00-00/model.data", "january"u8.ToArray());
        await PutAsync("2024-03-01T09-30-00/model.data", "march"u8.ToArray());
        await PutAsync("2023-12-31T23-59-59/model.data", "december"u8.ToArray());
        await PutAsync("notes/model.data", "not a version"u8.ToArray());
        await using var bed = Bed();

        var path = await bed.FetchAsync(S3Uri("latest/model.data"));

        Assert.Equal("march", await File.ReadAllTextAsync(path));
        Assert.Equal("model.data", Path.GetFileName(path));
    }

    [Fact]
    public async Task Latest_WithoutFileName_TakesTheFoldersOnlyObject()
    {
        await PutAsync("1700000000/model.data", "old"u8.ToArray());
        await PutAsync("1800000000/model.data", "new"u8.ToArray());
        await using var bed = Bed();

        var path = await bed.FetchAsync(S3Uri("latest"));

        Assert.Equal("new", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task UnchangedObject_IsServedFromTheCache_WithoutASecondDownload()
    {
        await PutAsync("m.onnx", "v1"u8.ToArray());
        await using var bed = Bed();

        var first = await bed.FetchAsync(S3Uri("m.onnx"));
        var second = await bed.FetchAsync(S3Uri("m.onnx"));

        Assert.Equal(first, second);
        Assert.Equal(1, bed.Source("s3").Downloads);
        Assert.Contains(StorageBed.Sha256("v1"u8.ToArray()), first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewVersionInTheStore_IsFetchedOnTheNextCheck()
    {
        await PutAsync("2024-01-01/model.data", "one"u8.ToArray());
        await using var bed = Bed();
        var reference = S3Uri("latest/model.data");
        var first = await bed.FetchAsync(reference);

        await PutAsync("2024-02-01/model.data", "two"u8.ToArray());
        var second = await bed.FetchAsync(reference);

        Assert.Equal("one", await File.ReadAllTextAsync(first));
        Assert.Equal("two", await File.ReadAllTextAsync(second));
        Assert.Equal(2, bed.Source("s3").Downloads);
    }

    [Fact]
    public async Task Sha256MetadataMismatch_IsRejected_AndThePreviousVersionKeepsServing()
    {
        var good = "good model"u8.ToArray();
        await PutAsync("2024-01-01/model.data", good, StorageBed.Sha256(good));
        await using var bed = Bed();
        var reference = S3Uri("latest/model.data");
        var kept = await bed.FetchAsync(reference);

        var tampered = "tampered model"u8.ToArray();
        await PutAsync("2024-02-01/model.data", tampered, StorageBed.Sha256("what was published"u8.ToArray()));
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
        await PutAsync("m.onnx", content);
        await using var bed = Bed();
        var pin = new string('a', 64);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => bed.FetchAsync(S3Uri($"m.onnx#sha256={pin}")));

        Assert.Contains(pin, error.Message, StringComparison.Ordinal);
        Assert.Contains(StorageBed.Sha256(content), error.Message, StringComparison.Ordinal);
        Assert.Empty(bed.CachedHashes());
    }

    [Fact]
    public async Task PinnedSha256Match_IsAccepted()
    {
        var content = "pinned model"u8.ToArray();
        await PutAsync("m.onnx", content);
        await using var bed = Bed();

        var path = await bed.FetchAsync(S3Uri($"m.onnx#sha256={StorageBed.Sha256(content)}"));

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task MissingObject_IsFileNotFound_NamingTheKey()
    {
        await using var bed = Bed();

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => bed.FetchAsync(S3Uri("absent.onnx")));

        Assert.Contains(S3Uri("absent.onnx"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PartialFileFromAnEarlierProcess_IsResumedNotRestarted()
    {
        var content = StorageBed.RandomBytes(6 << 20, seed: 7);
        var key = "resume.onnx";
        await PutAsync(key, content);
        await using (var first = Bed(o => o.MaxBytesPerSecond = 2L << 20))
        {
            using var stop = new CancellationTokenSource();
            var fetch = first.FetchAsync(S3Uri(key), stop.Token);
            await Poll.UntilAsync(() => Directory.Exists(Path.Combine(Cache, "partial")) && Directory.GetFiles(Path.Combine(Cache, "partial")).Any(f => new FileInfo(f).Length > 1 << 20), TimeSpan.FromSeconds(60), "over 1 MiB of the download is in the partial folder");
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch);
        }

        await using var second = Bed();
        var path = await second.FetchAsync(S3Uri(key));

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.True(second.Logs.Contains(LogLevel.Information, "Resuming"), second.Logs.ToString());
    }

    [Fact]
    public async Task TwoProcessesFetchingAtOnce_DownloadOnce_AndShareTheFile()
    {
        var content = StorageBed.RandomBytes(16 << 20, seed: 9);
        var key = "shared.onnx";
        await PutAsync(key, content);
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var tool = Path.Combine(RepoPaths.Root, "tests", "Edge.Storage.S3.Tests", "FetchTool", "bin", configuration, "net10.0", "Edge.Storage.FetchTool.dll");
        Assert.True(File.Exists(tool), $"fetch tool not built at {tool}");

        // 2 MB/s: the first download lasts about eight seconds, so the second process starts during it even
        // when a busy machine starts the two processes seconds apart.
        string[] args = [tool, Server.Endpoint, Cache, S3Uri(key), (2L << 20).ToString()];
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
            await PutAsync($"m{i}.onnx", content);

            // One bed per fetch: a fresh process, which holds no model in use but its own.
            await using var bed = Bed(o => o.Cache.MaxBytes = limit);
            await bed.FetchAsync(S3Uri($"m{i}.onnx"));
            await Task.Delay(50);
        }

        await using var check = Bed();
        Assert.Equal(hashes.Skip(1).Order(StringComparer.Ordinal), check.CachedHashes());
    }
}
