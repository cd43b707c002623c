using System.Diagnostics;
using System.Text.Json;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Spool;
using Edge.Plugin.Waggle;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;

namespace Edge.Plugin.Waggle.Tests;

[Collection("rabbitmq")]
public sealed class WaggleInteropTests(RabbitMqFixture rabbit) : IDisposable
{
    private const long Ts = 1_795_262_400_123_456_789;
    private readonly string _dir = Directory.CreateTempSubdirectory("waggle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WagglePublisher Publisher(int? port = null, string appId = "app-7f3a", string? spool = null) =>
        new(new SpooledDelivery(
            new WaggleLink(new WaggleOptions
            {
                Host = "127.0.0.1",
                Port = port ?? rabbit.Broker.Port,
                AppId = appId,
                ConnectTimeout = TimeSpan.FromSeconds(3),
                ConfirmTimeout = TimeSpan.FromSeconds(10),
            }),
            DurableSpool.Open(new SpoolOptions { Directory = spool ?? Path.Combine(_dir, "spool") }, NullLogger.Instance),
            NullLogger.Instance,
            new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500))));

    // Decodes as Waggle's server does (wagglemsg.load: json.loads, then name/val/ts/meta) and prints
    // what the broker delivered, one JSON line per message.
    private const string PikaConsumer = """
        import json, sys, time, pika
        port, queue, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=port, credentials=pika.PlainCredentials("plugin", "plugin")))
        ch = conn.channel()
        got, deadline = 0, time.time() + 60
        while got < count and time.time() < deadline:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            data = json.loads(body)
            if data.get("enc") == "b64":
                raise SystemExit("unexpected binary value")
            print(json.dumps({
                "exchange": method.exchange, "routing_key": method.routing_key,
                "user_id": props.user_id, "app_id": props.app_id, "delivery_mode": props.delivery_mode,
                "name": data["name"], "value": data["val"], "value_type": type(data["val"]).__name__,
                "timestamp": data["ts"], "timestamp_type": type(data["ts"]).__name__, "meta": data["meta"],
            }), flush=True)
            got += 1
        conn.close()
        """;

    private List<JsonElement> ConsumeWithPika(string queue, int count)
    {
        var script = Path.Combine(_dir, "consumer.py");
        File.WriteAllText(script, PikaConsumer);
        var result = Tool.Run("/usr/bin/python3", [script, rabbit.Broker.Port.ToString(), queue, count.ToString()], timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
    }

    [Fact]
    public async Task PikaConsumer_DecodesOurMessages_AsWaggleWould()
    {
        var queue = await rabbit.BindQueueAsync();
        await using (var publisher = Publisher())
        {
            await publisher.PublishAsync(new Measurement("env.count.car", 42L, Ts, new Dictionary<string, string> { ["camera"] = "bottom_camera" }), default);
            await publisher.PublishAsync(new Measurement("env.temperature", 2.0, Ts + 1, scope: "node"), default);
            await publisher.PublishAsync(new Measurement("env.label", "crème brûlée <&>", Ts + 2, scope: "beehive"), default);
            Assert.Equal(3, publisher.Delivery.Delivered);
            Assert.Equal(0, publisher.Delivery.Waiting);
        }

        var messages = ConsumeWithPika(queue, 3);

        Assert.Equal(3, messages.Count);
        foreach (var m in messages)
        {
            Assert.Equal("to-validator", m.GetProperty("exchange").GetString());
            Assert.Equal("plugin", m.GetProperty("user_id").GetString());
            Assert.Equal("app-7f3a", m.GetProperty("app_id").GetString());
            Assert.Equal(2, m.GetProperty("delivery_mode").GetInt32());
            Assert.Equal("int", m.GetProperty("timestamp_type").GetString());
        }

        Assert.Equal(["all", "node", "beehive"], messages.Select(m => m.GetProperty("routing_key").GetString()));
        Assert.Equal(("env.count.car", "int", 42L), (messages[0].GetProperty("name").GetString(), messages[0].GetProperty("value_type").GetString(), messages[0].GetProperty("value").GetInt64()));
        Assert.Equal("bottom_camera", messages[0].GetProperty("meta").GetProperty("camera").GetString());
        Assert.Equal(Ts, messages[0].GetProperty("timestamp").GetInt64());

        // 2.0 must stay a float for Python, not become the int 2.
        Assert.Equal("float", messages[1].GetProperty("value_type").GetString());
        Assert.Equal(2.0, messages[1].GetProperty("value").GetDouble());
        Assert.Equal("crème brûlée <&>", messages[2].GetProperty("value").GetString());
    }

    [Fact]
    public async Task AddWaggle_PublishesThroughTheContainer_AndDisposesCleanly()
    {
        var queue = await rabbit.BindQueueAsync();
        var collection = RabbitMqFixture.Services();
        collection.AddWaggle(o => (o.Host, o.Port, o.Spool.Directory) = ("127.0.0.1", rabbit.Broker.Port, Path.Combine(_dir, "di")), force: true);
        await using (var services = collection.BuildServiceProvider())
        {
            var publisher = Assert.Single(services.GetServices<IMeasurementPublisher>());
            Assert.Equal("waggle", publisher.Name);
            await publisher.PublishAsync(new Measurement("env.count", 5L, Ts), default);
        }

        Assert.Equal([5L], await rabbit.ReadSequenceAsync(queue));
    }

    [Fact]
    public async Task AppId_IsLeftOut_WhenEmpty_AsPywaggleDoes()
    {
        var queue = await rabbit.BindQueueAsync();
        await using (var publisher = Publisher(appId: ""))
        {
            await publisher.PublishAsync(new Measurement("env.count", 1L, Ts), default);
        }

        var message = Assert.Single(ConsumeWithPika(queue, 1));
        Assert.Equal(JsonValueKind.Null, message.GetProperty("app_id").ValueKind);
    }

    [Fact]
    public async Task Upload_StagesLikePywaggle_AndAnnouncesTheFolder()
    {
        var queue = await rabbit.BindQueueAsync();
        var file = Path.Combine(_dir, "snapshot.jpg");
        await File.WriteAllBytesAsync(file, "not really a jpeg"u8.ToArray());
        var root = Path.Combine(_dir, "uploads");
        StagedUpload upload;
        await using (var publisher = Publisher())
        {
            var uploads = new FileUploads(root, [publisher]);
            upload = await uploads.UploadAsync(file, new Dictionary<string, string> { ["camera"] = "top" }, Ts, keep: true);
        }

        // sha1 of the content, as `sha1sum` prints it.
        var sha1 = Tool.Run("sha1sum", [file]).StandardOutput.Split(' ')[0];
        Assert.Equal($"{Ts}-{sha1}", upload.FolderName);
        Assert.Equal("not really a jpeg", await File.ReadAllTextAsync(Path.Combine(root, upload.FolderName, "data")));
        Assert.Equal($$"""{"labels":{"camera":"top","filename":"snapshot.jpg"},"shasum":"{{sha1}}","timestamp":{{Ts}}}""", await File.ReadAllTextAsync(Path.Combine(root, upload.FolderName, "meta")));
        Assert.True(File.Exists(file), "keep: true leaves the original");

        var message = Assert.Single(ConsumeWithPika(queue, 1));
        Assert.Equal("upload", message.GetProperty("name").GetString());
        Assert.Equal(upload.FolderName, message.GetProperty("value").GetString());
        Assert.Equal("snapshot.jpg", message.GetProperty("meta").GetProperty("filename").GetString());
        Assert.Equal("top", message.GetProperty("meta").GetProperty("camera").GetString());
    }

    [Fact]
    public async Task UnreachableBroker_Spools_ThenDeliversInOrder_WhenItAppears()
    {
        // Nothing listens on this port until the messages are spooled; then a second publisher on
        // the same spool finds the real broker.
        var spool = Path.Combine(_dir, "late");
        var queue = await rabbit.BindQueueAsync();
        await using (var offline = Publisher(port: Ports.Free(), spool: spool))
        {
            for (var i = 0; i < 50; i++)
            {
                await offline.PublishAsync(new Measurement("test.seq", (long)i, Ts + i), default);
            }

            Assert.Equal(50, offline.Delivery.Waiting);
            Assert.Equal(0, offline.Delivery.Delivered);
        }

        await using (var online = Publisher(spool: spool))
        {
            await online.PublishAsync(new Measurement("test.seq", 50L, Ts + 50), default);
            Assert.True(await online.Delivery.FlushAsync(TimeSpan.FromMinutes(1)), $"{online.Delivery.Waiting} still spooled");
        }

        Assert.Equal(Enumerable.Range(0, 51).Select(i => (long)i), await rabbit.ReadSequenceAsync(queue));
    }

    [Fact]
    public async Task BrokerRestart_MidStream_LosesNothing_AndKeepsOrder()
    {
        const int Total = 3000;
        var queue = await rabbit.BindQueueAsync();
        await using (var publisher = Publisher())
        {
            for (var i = 0; i < Total; i++)
            {
                if (i == 1000)
                {
                    await rabbit.Broker.StopAsync();
                }

                if (i == 2000)
                {
                    await rabbit.Broker.StartAgainAsync();
                }

                await publisher.PublishAsync(new Measurement("test.seq", (long)i, Ts + i), default);
            }

            Assert.True(await publisher.Delivery.FlushAsync(TimeSpan.FromMinutes(2)), $"{publisher.Delivery.Waiting} still spooled");
        }

        var received = await rabbit.ReadSequenceAsync(queue);
        AssertAllInOrder(received, Total);
    }

    [Fact]
    public async Task Kill9_WithANonEmptySpool_LosesNothingAcknowledged()
    {
        var queue = await rabbit.BindQueueAsync();
        var spool = Path.Combine(_dir, "crash");
        var probe = Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

        // First life: the broker is unreachable, so every publish is spooled; killed mid-stream.
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { probe, "spool", Ports.Free().ToString(), spool, "publish", "0", "1000000" })
        {
            info.ArgumentList.Add(arg);
        }

        long lastAck = -1;
        using (var first = Process.Start(info)!)
        {
            _ = first.StandardError.ReadToEndAsync();
            while (lastAck < 400 && await first.StandardOutput.ReadLineAsync() is { } line)
            {
                lastAck = long.Parse(line["ack ".Length..]);
            }

            first.Kill(); // SIGKILL: no finally blocks, no flush, no dispose.
            await first.WaitForExitAsync();
            while (await first.StandardOutput.ReadLineAsync() is { } line)
            {
                lastAck = long.Parse(line["ack ".Length..]);
            }
        }

        Assert.True(lastAck >= 400, $"the probe acknowledged only up to {lastAck}");

        // Second life: same spool, broker reachable.
        var drain = Tool.Run("dotnet", [probe, "spool", rabbit.Broker.Port.ToString(), spool, "drain"], timeout: TimeSpan.FromMinutes(4));
        Assert.True(drain.ExitCode == 0, drain.ToString());

        var received = await rabbit.ReadSequenceAsync(queue);
        AssertAllInOrder(received.Where(v => v <= lastAck).ToList(), (int)lastAck + 1);

        // At most the one record being written at the kill goes beyond the last acknowledgement.
        Assert.True(received.Count(v => v > lastAck) <= 1, $"received {received.Count(v => v > lastAck)} beyond ack {lastAck}");
    }

    private static void AssertAllInOrder(List<long> received, int total)
    {
        // At-least-once: a message confirmed by the broker just as it stopped can be sent twice;
        // none may be missing, and first arrivals must keep the publishing order.
        var firsts = new List<long>();
        var seen = new HashSet<long>();
        foreach (var value in received)
        {
            if (seen.Add(value))
            {
                firsts.Add(value);
            }
        }

        var missing = Enumerable.Range(0, total).Select(i => (long)i).Except(seen).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} lost, first {string.Join(", ", missing.Take(10))}");
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), firsts);
    }
}
