using Edge.Testing;

namespace Edge.Storage.Tests;

/// <summary>A fresh s3rver, cache folder and key prefix per test; all removed afterwards.</summary>
public abstract class S3TestBase : IAsyncLifetime
{
    private protected S3Server Server { get; private set; } = null!;

    private protected string Cache { get; } = Directory.CreateTempSubdirectory("model-cache-").FullName;

    private protected string Prefix { get; } = $"t{Guid.NewGuid():N}"[..12];

    public async Task InitializeAsync() => Server = await S3Server.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Cache, recursive: true);
    }

    private protected static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }
}
