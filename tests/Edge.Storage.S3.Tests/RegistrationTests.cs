using Edge.Plugin;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Storage.S3.Tests;

/// <summary>What <c>AddS3Storage</c> registers, how often, where its settings come from and which it refuses at start-up.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void AddS3Storage_CalledTwice_RegistersEachSourceAndTheUploaderOnce()
    {
        var services = StorageBed.Configured([]).AddS3Storage(o => o.Region = "eu-west-1").AddModelStore().AddS3Storage(o => o.MaxRetries = 5);
        using var provider = services.BuildServiceProvider();

        var schemes = provider.GetServices<IModelSource>().SelectMany(s => s.Schemes).Order(StringComparer.Ordinal);
        Assert.Equal(["file", "http", "https", "s3"], schemes);
        Assert.Single(services, d => d.ServiceType == typeof(ArtifactUploader));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<S3Options>));
        var options = provider.GetRequiredService<IOptions<S3Options>>().Value;
        Assert.Equal(("eu-west-1", 5), (options.Region, options.MaxRetries));
    }

    [Fact]
    public void Options_AreBoundFromTheStorageS3Section_AsEnvironmentVariablesSetThem()
    {
        // A prefix of this test's own keeps the variables away from every other test in the process.
        var prefix = $"EDGE_TEST_{Guid.NewGuid():N}_";
        Environment.SetEnvironmentVariable($"{prefix}Storage__S3__Endpoint", "http://minio:9000");
        Environment.SetEnvironmentVariable($"{prefix}Storage__S3__PartSize", "8388608");
        try
        {
            using var provider = new ServiceCollection()
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build())
                .AddS3Storage()
                .BuildServiceProvider();

            var options = provider.GetRequiredService<IOptions<S3Options>>().Value;

            Assert.Equal(("http://minio:9000", 8L << 20), (options.Endpoint, options.PartSize));
        }
        finally
        {
            Environment.SetEnvironmentVariable($"{prefix}Storage__S3__Endpoint", null);
            Environment.SetEnvironmentVariable($"{prefix}Storage__S3__PartSize", null);
        }
    }

    [Theory]
    [InlineData("Storage:S3:Endpoint", "not a url")]
    [InlineData("Storage:S3:CaCertificateFile", "/no/such/ca.pem")]
    [InlineData("Storage:S3:Timeout", "00:00:00")]
    [InlineData("Storage:S3:MaxRetries", "-1")]
    public void BadSetting_FailsAtStart_NamingTheKey(string key, string value)
    {
        using var provider = StorageBed.Configured(new() { [key] = value }).AddS3Storage().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
