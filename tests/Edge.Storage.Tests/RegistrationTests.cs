using Edge.Plugin;
using Edge.Storage.Caching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Tests;

/// <summary>What <c>AddModelStore</c> registers, how often, and which settings it refuses at start-up.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void AddModelStore_CalledTwice_RegistersEachSourceOnce_AndAppliesBothConfigures()
    {
        var services = StorageBed.Configured([]).AddModelStore(o => o.MaxBytesPerSecond = 5).AddModelStore(o => o.ProgressInterval = TimeSpan.FromSeconds(9));
        using var provider = services.BuildServiceProvider();

        var schemes = provider.GetServices<IModelSource>().SelectMany(s => s.Schemes).Order(StringComparer.Ordinal);
        Assert.Equal(["file", "http", "https"], schemes);
        Assert.Single(services, d => d.ServiceType == typeof(ModelCache));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<StorageOptions>));
        var options = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
        Assert.Equal((5, TimeSpan.FromSeconds(9)), (options.MaxBytesPerSecond, options.ProgressInterval));
    }

    [Fact]
    public void Options_AreBoundFromTheStorageSection()
    {
        using var provider = StorageBed.Configured(new() { ["Storage:RequestTimeout"] = "00:00:07", ["Storage:Archives:MaxEntries"] = "12" }).AddModelStore().BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Equal((TimeSpan.FromSeconds(7), 12), (options.RequestTimeout, options.Archives.MaxEntries));
    }

    [Theory]
    [InlineData("Storage:RequestTimeout", "00:00:00")]
    [InlineData("Storage:ReadTimeout", "-00:00:01")]
    [InlineData("Storage:Cache:MaxBytes", "0")]
    public void BadSetting_FailsAtStart_NamingTheKey(string key, string value)
    {
        using var provider = StorageBed.Configured(new() { [key] = value }).AddModelStore().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
