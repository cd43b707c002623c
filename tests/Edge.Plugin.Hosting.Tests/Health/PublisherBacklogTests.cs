using Edge.Plugin.Hosting.Health;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Hosting.Tests.Health;

public sealed class PublisherBacklogTests
{
    [Fact]
    public async Task RestPublisher_WithItsEndpointDown_ReportsWhatItHoldsInReadiness()
    {
        var spool = Directory.CreateTempSubdirectory("edge-backlog-").FullName;
        // Nothing listens on this port: every measurement stays in the spool.
        var closed = Ports.Free();
        var services = new ServiceCollection().AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddRestPublisher(o =>
        {
            o.Url = new Uri($"http://127.0.0.1:{closed}/measurements");
            o.Spool.Directory = spool;
        });
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<IMeasurementPublisher>();

        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(new Measurement("env.count", i, Clock.NowNs()), default);
        }

        var health = new PluginHealth([publisher]);
        health.SourceOpened("test");

        Assert.Equal(3, ((IPublisherBacklog)publisher).Backlog);
        Assert.Contains("\"publisherBacklog\":3", health.Ready().Json, StringComparison.Ordinal);
    }
}
