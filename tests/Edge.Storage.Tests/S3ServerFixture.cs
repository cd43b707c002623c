using Edge.Testing;

namespace Edge.Storage.Tests;

/// <summary>
/// One s3rver for all the tests of a class (xunit runs them one at a time), which keep apart by each
/// using a bucket of its own. Objects go in with plain HTTP requests, which s3rver accepts unsigned, so
/// the tests put them in place without the code under test or the AWS SDK.
/// </summary>
public sealed class S3ServerFixture : IAsyncLifetime
{
    private static readonly HttpClient Http = new();

    internal S3Server Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3Server.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A fresh valid bucket name (3-63 characters of a-z, 0-9).</summary>
    internal static string NewBucketName() => $"t{Guid.NewGuid():N}"[..12];

    internal static async Task CreateBucketAsync(S3Server server, string bucket)
    {
        using var response = await Http.PutAsync($"{server.Endpoint}/{bucket}", null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Stores an object; <paramref name="sha256Metadata"/> becomes its <c>x-amz-meta-sha256</c>.</summary>
    internal static async Task PutAsync(S3Server server, string bucket, string key, byte[] content, string? sha256Metadata = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{server.Endpoint}/{bucket}/{key}") { Content = new ByteArrayContent(content) };
        if (sha256Metadata is not null)
        {
            request.Headers.Add("x-amz-meta-sha256", sha256Metadata);
        }

        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
