// Publish throughput of the in-house MQTT client, measured the way run-mqtt.sh measures
// mosquitto_pub and paho: connect, publish N messages of S bytes, and stop the clock when the last
// one is done (QoS 0: written and DISCONNECT sent; QoS 1: every PUBACK received).
// Usage: Edge.Mqtt.Benchmarks <host> <port> <qos> <count> <size> [max-inflight]
using System.Diagnostics;
using System.Globalization;
using Edge.Mqtt;

if (args.Length < 5)
{
    Console.Error.WriteLine("usage: Edge.Mqtt.Benchmarks <host> <port> <qos> <count> <size> [max-inflight]");
    return 2;
}

var host = args[0];
var port = int.Parse(args[1], CultureInfo.InvariantCulture);
var qos = (MqttQualityOfService)int.Parse(args[2], CultureInfo.InvariantCulture);
var count = int.Parse(args[3], CultureInfo.InvariantCulture);
var size = int.Parse(args[4], CultureInfo.InvariantCulture);
var inflight = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 20;
var payload = new byte[size];
Array.Fill(payload, (byte)'x');

// Warm-up run: JIT and pools, so the measured run sees steady state as a long-lived plugin would.
await RunAsync(Math.Min(count, 20_000));
var (seconds, loopBytes, totalBytes) = await RunAsync(count);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"dotnet qos={(int)qos} count={count} size={size} seconds={seconds:F3} rate={count / seconds:F0} alloc_per_msg={(double)loopBytes / count:F2} alloc_per_msg_with_connect={(double)totalBytes / count:F2}"));
return 0;

// Allocations are counted process-wide (every thread: the caller, the read and write loops), first
// over the publishing loop alone, then including connect and disconnect.
async Task<(double Seconds, long LoopBytes, long TotalBytes)> RunAsync(int n)
{
    var options = new MqttClientOptions { Host = host, Port = port, MaxInflight = inflight, ClientId = $"bench-{Environment.ProcessId}" };
    await using var client = new MqttClient(options);
    var totalBefore = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    await client.ConnectAsync();
    long loopBytes;
    if (qos == MqttQualityOfService.AtMostOnce)
    {
        var loopBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < n; i++)
        {
            var publish = client.PublishAsync("bench/topic", payload, qos);
            if (!publish.IsCompletedSuccessfully)
            {
                await publish;
            }
        }

        loopBytes = GC.GetTotalAllocatedBytes(precise: true) - loopBefore;
    }
    else
    {
        // A producer that keeps many publishes outstanding, as a plugin's publisher pump does.
        var window = new Queue<ValueTask>(1024);
        var loopBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < n; i++)
        {
            if (window.Count == 1024)
            {
                await window.Dequeue();
            }

            window.Enqueue(client.PublishAsync("bench/topic", payload, qos));
        }

        while (window.Count > 0)
        {
            await window.Dequeue();
        }

        loopBytes = GC.GetTotalAllocatedBytes(precise: true) - loopBefore;
    }

    await client.DisconnectAsync();
    clock.Stop();
    return (clock.Elapsed.TotalSeconds, loopBytes, GC.GetTotalAllocatedBytes(precise: true) - totalBefore);
}
