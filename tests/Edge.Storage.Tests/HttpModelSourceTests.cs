using System.Net;
using System.Net.Sockets;
using Edge.Testing;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Tests;

/// <summary>http:// references through the cache, served by a real s3rver on loopback; each test has its own bucket and cache.</summary>
public sealed class HttpModelSourceTests(S3ServerFixture fixture) : IClassFixture<S3ServerFixture>, IAsyncLifetime
{
    private readonly string _cache = Directory.CreateTempSubdirectory("model-cache-").FullName;
    private readonly string _bucket = S3ServerFixture.NewBucketName();

    public Task InitializeAsync() => S3ServerFixture.CreateBucketAsync(fixture.Server, _bucket);

    public Task DisposeAsync()
    {
        Directory.Delete(_cache, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task UnchangedIsNotDownloadedAgain_ChangedIs()
    {
        var server = fixture.Server;
        await S3ServerFixture.PutAsync(server, _bucket, "m.onnx", "first"u8.ToArray());
        await using var bed = new StorageBed(_cache);
        var url = $"{server.Endpoint}/{_bucket}/m.onnx";

        var first = await bed.FetchAsync(url);
        var again = await bed.FetchAsync(url);
        await S3ServerFixture.PutAsync(server, _bucket, "m.onnx", "second"u8.ToArray());
        var changed = await bed.FetchAsync(url);

        Assert.Equal(first, again);
        Assert.Equal("first", await File.ReadAllTextAsync(first));
        Assert.Equal("second", await File.ReadAllTextAsync(changed));
        Assert.Equal(2, bed.Source("http").Downloads);
    }

    [Fact]
    public async Task ServerDown_UsesTheCachedCopy()
    {
        // This test stops its server, so it does not use the class's shared one.
        await using var server = await S3Server.StartAsync();
        await S3ServerFixture.PutAsync(server, S3Server.Bucket, "m.onnx", "cached"u8.ToArray());
        var url = $"{server.Endpoint}/{S3Server.Bucket}/m.onnx";
        await using (var before = new StorageBed(_cache))
        {
            await before.FetchAsync(url);
        }

        server.Kill();
        await using var after = new StorageBed(_cache);
        var path = await after.FetchAsync(url);

        Assert.Equal("cached", await File.ReadAllTextAsync(path));
        Assert.True(after.Logs.Contains(LogLevel.Warning, "OFFLINE"), after.Logs.ToString());
    }

    [Fact]
    public async Task ServerThatNeverAnswers_FailsAfterTheRequestTimeout()
    {
        // Accepts the connection and reads nothing: no status line ever comes back.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/m.onnx";
        await using var bed = new StorageBed(_cache, o => o.RequestTimeout = TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<IOException>(() => bed.FetchAsync(url).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains($"Model {url} could not be fetched", error.Message, StringComparison.Ordinal);
    }
}
