using System.Text;
using System.Text.Json;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>
/// One real RabbitMQ for the Waggle tests, with a node's two exchanges: <c>to-validator</c>, which
/// plugins publish to, and <c>data.topic</c>, which they subscribe on.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    internal RabbitMqBroker Broker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await RabbitMqBroker.StartAsync();
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync("to-validator", ExchangeType.Topic, durable: true);

        // As the node's data-sharing service declares it; durable, so it outlives a broker restart.
        await channel.ExchangeDeclareAsync(WaggleSubscription.DataExchange, ExchangeType.Topic, durable: true);
    }

    public async Task DisposeAsync() => await Broker.DisposeAsync();

    internal Task<IConnection> ConnectAsync() =>
        new ConnectionFactory { HostName = "127.0.0.1", Port = Broker.Port, UserName = "plugin", Password = "plugin" }.CreateConnectionAsync();

    /// <summary>Points <paramref name="options"/> at this broker, to reconnect quickly after it restarts, spooling in <paramref name="spool"/>.</summary>
    internal void Configure(WaggleOptions options, string spool)
    {
        options.Host = "127.0.0.1";
        options.Port = Broker.Port;
        options.ConnectTimeout = TimeSpan.FromSeconds(5);
        options.ConfirmTimeout = TimeSpan.FromSeconds(10);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        options.MaxReconnectDelay = TimeSpan.FromSeconds(1);
        options.Spool.Directory = spool;
    }

    /// <summary>Services as a host has them: logging, and configuration (empty unless given).</summary>
    internal static ServiceCollection Services(Dictionary<string, string?>? configuration = null, LogCapture? logs = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            if (logs is not null)
            {
                b.AddProvider(logs);
            }
        });
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build());
        return services;
    }

    /// <summary>A message body as pywaggle's wagglemsg.dump writes it: name, ts, meta, val, compact.</summary>
    internal static string Body(string name, string value, long timestampNs, string meta = "{}") =>
        $$"""{"name":"{{name}}","ts":{{timestampNs}},"meta":{{meta}},"val":{{value}}}""";

    /// <summary>A durable queue that receives everything sent to to-validator from now on.</summary>
    internal async Task<string> BindQueueAsync()
    {
        var name = "test-" + Guid.NewGuid().ToString("N");
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(name, "to-validator", "#");
        return name;
    }

    /// <summary>Reads the test.seq values in the queue, in queue order.</summary>
    internal async Task<List<long>> ReadSequenceAsync(string queue)
    {
        var values = new List<long>();
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            using var json = JsonDocument.Parse(message.Body);
            values.Add(json.RootElement.GetProperty("val").GetInt64());
        }

        return values;
    }

    /// <summary>
    /// Waits until the queue holds <paramref name="count"/> messages or the deadline passes, then takes
    /// them all, so that one message too many shows too.
    /// </summary>
    internal async Task<List<Published>> ReadMessagesAsync(string queue, int count, TimeSpan timeout)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await Poll.TryUntilAsync(async () => await channel.MessageCountAsync(queue) >= count, timeout);

        var messages = new List<Published>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            using var json = JsonDocument.Parse(message.Body);
            messages.Add(new Published(message.RoutingKey, message.BasicProperties.AppId, json.RootElement.Clone()));
        }

        return messages;
    }

    /// <summary>
    /// Publishes to data.topic as the node's data-sharing service forwards a plugin's message: routing
    /// key = the name, no properties, the body as pywaggle's wagglemsg.dump wrote it.
    /// </summary>
    internal async Task PublishDataAsync(params (string RoutingKey, string Body)[] messages)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var (routingKey, body) in messages)
        {
            await channel.BasicPublishAsync(WaggleSubscription.DataExchange, routingKey, Encoding.UTF8.GetBytes(body));
        }
    }
}

/// <summary>A message as a consumer of to-validator sees it.</summary>
internal sealed record Published(string RoutingKey, string? AppId, JsonElement Body);

[CollectionDefinition("rabbitmq")]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqFixture>;
