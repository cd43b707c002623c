using System.Text.Json;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Rest;
using Edge.Plugin.Hosting.Spool;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// A cancelled publish through a spooled publisher (what a plugin stopping passes on) spools the
/// measurement instead of dropping it; a real HTTP endpoint receives it afterwards.
/// </summary>
public sealed class SpoolCancellationTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dir = Directory.CreateTempSubdirectory("spool-cancel-").FullName;

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private RestPublisher Publisher(CallbackServer server) => new(new SpooledDelivery(
        new RestLink(new CallbackClient(_http, new CallbackOptions { MaxAttempts = 1, AttemptTimeout = TimeSpan.FromMinutes(2) }, NullLogger.Instance), HttpMethod.Post, server.Url("measurements")),
        DurableSpool.Open(new SpoolOptions { Directory = _dir }, NullLogger.Instance),
        NullLogger.Instance,
        new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50))));

    private static long Value(CallbackServer.RecordedRequest request)
    {
        using var json = JsonDocument.Parse(request.Body);
        return json.RootElement.GetProperty("val").GetInt64();
    }

    [Fact]
    public async Task PublishWithACancelledToken_IsSpooledAndDelivered_NotDropped()
    {
        using var server = new CallbackServer();
        await using var publisher = Publisher(server);

        await publisher.PublishAsync(new Measurement("env.count", 1L, Measurement.MinimumTimestampNs), new CancellationToken(canceled: true));

        Assert.True(await publisher.Delivery.FlushAsync(Wait), $"{publisher.Delivery.Waiting} still spooled");
        Assert.Equal([1L], server.Requests.Select(Value));
    }

    [Fact]
    public async Task PublishCancelledWhileTheEndpointIsSlow_ReturnsWithTheMeasurementSpooled()
    {
        // The first request hangs far longer than the cancellation takes; later ones are answered at once.
        using var server = new CallbackServer((n, _) => (200, n == 0 ? TimeSpan.FromSeconds(60) : TimeSpan.Zero));
        await using var publisher = Publisher(server);
        using var cancel = new CancellationTokenSource();

        var publish = publisher.PublishAsync(new Measurement("env.count", 7L, Measurement.MinimumTimestampNs), cancel.Token).AsTask();
        await Poll.UntilAsync(() => !server.Requests.IsEmpty, Wait, "the endpoint receives the first attempt");
        await cancel.CancelAsync();
        await publish.WaitAsync(Wait);

        // The far end may have taken the first attempt: at-least-once allows the second.
        Assert.True(await publisher.Delivery.FlushAsync(Wait), $"{publisher.Delivery.Waiting} still spooled");
        Assert.Equal([7L, 7L], server.Requests.Select(Value));
    }
}
