using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Storage.S3.Tests;

/// <summary>
/// A bucket and a cache folder of its own per test, both removed afterwards, on the s3rver the test
/// class shares; or, given no fixture (a class whose tests stop the store), on a fresh s3rver per test.
/// </summary>
public abstract class S3TestBase(S3ServerFixture? shared) : IAsyncLifetime
{
    private S3Server? _own;

    private protected S3Server Server => shared?.Server ?? _own!;

    private protected string Cache { get; } = Directory.CreateTempSubdirectory("model-cache-").FullName;

    private protected string Bucket { get; } = S3ServerFixture.NewBucketName();

    public async Task InitializeAsync()
    {
        if (shared is null)
        {
            _own = await S3Server.StartAsync();
        }

        await S3ServerFixture.CreateBucketAsync(Server, Bucket);
    }

    public async Task DisposeAsync()
    {
        if (_own is not null)
        {
            await _own.DisposeAsync();
        }

        Directory.Delete(Cache, recursive: true);
    }

    /// <summary>The <c>s3://</c> reference to a key in this test's bucket.</summary>
    private protected string S3Uri(string key) => $"s3://{Bucket}/{key}";

    private protected Task PutAsync(string key, byte[] content, string? sha256Metadata = null) =>
        S3ServerFixture.PutAsync(Server, Bucket, key, content, sha256Metadata);

    /// <summary>A fresh "process" with the S3 source, signed in to this test's server, uploading to its bucket.</summary>
    private protected StorageBed Bed(Action<StorageOptions>? storage = null, Action<S3Options>? s3 = null) =>
        new(Cache, storage, services => services.AddS3Storage(o =>
        {
            o.Endpoint = Server.Endpoint;
            o.AccessKey = S3Server.AccessKey;
            o.SecretKey = S3Server.SecretKey;
            o.UploadBucket = Bucket;
            s3?.Invoke(o);
        }));

    private protected static ArtifactUploader Uploader(StorageBed bed) => bed.Services.GetRequiredService<ArtifactUploader>();
}
