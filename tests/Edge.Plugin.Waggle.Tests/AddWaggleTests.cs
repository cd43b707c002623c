using Edge.Plugin.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>AddWaggle: on only on a node, settings from environment then configuration, validated at start, idempotent.</summary>
[Collection("rabbitmq")]
public sealed class AddWaggleTests(RabbitMqFixture rabbit) : IDisposable
{
    private const long Ts = 1_795_262_400_123_456_789;
    private readonly string _dir = Directory.CreateTempSubdirectory("waggle-add-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Theory]
    [InlineData(null, null)]
    [InlineData("WAGGLE_APP_ID", "app-7f3a")]
    [InlineData("WAGGLE_PLUGIN_HOST", "")]
    public void OffANode_RegistersNothing(string? variable, string? value)
    {
        var services = new ServiceCollection();
        var environment = variable is null ? Environment() : Environment((variable, value!));

        services.AddWaggle(o => o.Host = "127.0.0.1", force: false, environment);

        Assert.Empty(services);
    }

    [Fact]
    public void OffANode_TheHostPrintsResults_ToStdout()
    {
        var builder = EdgePlugin.CreateBuilder(["-mode", "prod"]);
        builder.Services.AddWaggle(configure: null, force: false, Environment());
        builder.AddPlugin<Fahrenheit>();

        var host = builder.Build();

        Assert.Equal(["stdout"], host.Services!.GetServices<IMeasurementPublisher>().Select(p => p.Name));
        Assert.Null(host.Services!.GetService<IMeasurementSubscriber>());
    }

    [Fact]
    public async Task OnANode_TakesTheEnvironment_ThenConfiguration_ThenConfigure()
    {
        var services = RabbitMqFixture.Services(new() { ["Publishing:Waggle:Username"] = "from-config", ["Publishing:Waggle:AppId"] = "from-config" });
        services.AddWaggle(o => o.AppId = "from-code", force: false, Environment(("WAGGLE_PLUGIN_HOST", "wes-rabbitmq"), ("WAGGLE_PLUGIN_PORT", "15672"), ("WAGGLE_PLUGIN_USERNAME", "from-env"), ("WAGGLE_PLUGIN_PASSWORD", "secret")));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<WaggleOptions>>().Value;

        Assert.Equal(("wes-rabbitmq", 15672, "from-config", "secret", "from-code"), (options.Host, options.Port, options.Username, options.Password, options.AppId));
        Assert.Equal(Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "waggle-from-code"), options.Spool.Directory);
        Assert.Equal("waggle", Assert.Single(provider.GetServices<IMeasurementPublisher>()).Name);
        Assert.Equal("waggle", provider.GetRequiredService<IMeasurementSubscriber>().Name);
    }

    [Fact]
    public async Task Twice_PublishesEachMeasurementOnce_AndKeepsBothConfigures()
    {
        var queue = await rabbit.BindQueueAsync();
        // Configuration names a host that the first configure replaces; a second pass of configuration would bring it back.
        var services = RabbitMqFixture.Services(new() { ["Publishing:Waggle:Host"] = "nowhere.invalid" });
        services.AddWaggle(o => rabbit.Configure(o, Path.Combine(_dir, "spool")), force: true);
        services.AddWaggle(o => o.AppId = "second-call", force: true);
        int subscribers;
        await using (var provider = services.BuildServiceProvider())
        {
            // The host publishes each measurement to every registered publisher, as here.
            foreach (var publisher in provider.GetServices<IMeasurementPublisher>())
            {
                await publisher.PublishAsync(new Measurement("env.count", 1L, Ts), default);
            }

            subscribers = provider.GetServices<IMeasurementSubscriber>().Count();
        }

        // Each publish returned only once the broker confirmed it, so a second copy would be queued by now.
        var message = Assert.Single(await rabbit.ReadMessagesAsync(queue, count: 1, TimeSpan.FromSeconds(30)));

        // The second call's configure ran, and configuration did not undo the first's host.
        Assert.Equal("second-call", message.AppId);
        Assert.Equal(1, subscribers);
    }

    [Theory]
    [InlineData("Publishing:Waggle:Port", "70000", "Publishing:Waggle:Port must be 1-65535; got 70000.")]
    [InlineData("Publishing:Waggle:Port", "0", "Publishing:Waggle:Port must be 1-65535; got 0.")]
    [InlineData("Publishing:Waggle:Host", "", "Publishing:Waggle:Host is empty")]
    [InlineData("Publishing:Waggle:ConnectTimeout", "00:00:00", "Publishing:Waggle:ConnectTimeout must be positive")]
    [InlineData("Publishing:Waggle:ConfirmTimeout", "-00:00:01", "Publishing:Waggle:ConfirmTimeout must be positive")]
    [InlineData("Publishing:Waggle:ReconnectDelay", "00:01:00", "Publishing:Waggle:MaxReconnectDelay (00:00:30) must be at least ReconnectDelay (00:01:00).")]
    public void BadSetting_FailsValidation_NamingItsKey(string key, string value, string expected)
    {
        var services = RabbitMqFixture.Services(new() { [key] = value });
        services.AddWaggle(force: true);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WaggleOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void UnusablePortVariable_FailsValidation_NamingTheVariable()
    {
        var services = RabbitMqFixture.Services();
        services.AddWaggle(configure: null, force: false, Environment(("WAGGLE_PLUGIN_HOST", "rabbitmq"), ("WAGGLE_PLUGIN_PORT", "amqp")));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WaggleOptions>>().Value);

        Assert.Equal(["WAGGLE_PLUGIN_PORT must be a port number (1-65535); got 'amqp'."], error.Failures);
    }

    [Fact]
    public async Task BadSetting_StopsThePluginAtStart()
    {
        var builder = EdgePlugin.CreateBuilder(["-mode", "prod"]);
        builder.Configuration.AddInMemoryCollection([new("Publishing:Waggle:Port", "0"), new("Publishing:Waggle:Spool:Directory", Path.Combine(_dir, "spool"))]);
        builder.Services.AddWaggle(force: true);
        builder.Services.AddSingleton(new Subscribed());
        builder.AddPlugin<Fahrenheit>();
        await using var host = builder.Build();

        Assert.Equal(ExitCodes.StartFailed, await host.RunAsync().WaitAsync(TimeSpan.FromMinutes(1)));
    }
}
