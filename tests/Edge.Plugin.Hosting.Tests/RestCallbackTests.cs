using System.Net;
using System.Text.Json;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Rest;
using Edge.Plugin.Hosting.Spool;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Plugin.Hosting.Tests;

public sealed class RestCallbackTests : IDisposable
{
    private static readonly byte[] Body = """{"Status":"PipelineComplete"}"""u8.ToArray();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dir = Directory.CreateTempSubdirectory("rest-").FullName;

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private CallbackClient Client(int attempts = 4, double timeoutSeconds = 30) =>
        new(_http, new CallbackOptions { MaxAttempts = attempts, AttemptTimeout = TimeSpan.FromSeconds(timeoutSeconds), InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) }, NullLogger.Instance);

    [Fact]
    public async Task ServerErrors_AreRetried_UntilTheServerAccepts()
    {
        using var server = new CallbackServer((n, _) => (n switch { 0 => 503, 1 => 500, _ => 200 }, TimeSpan.Zero));

        await Client().SendAsync(HttpMethod.Post, server.Url("api/v1/job"), Body, "application/json", default);

        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(("POST", "/api/v1/job", """{"Status":"PipelineComplete"}"""), (r.Method, r.Path, r.Body)));
        Assert.All(server.Requests, r => Assert.StartsWith("application/json", r.ContentType, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task ClientErrors_AreNeverRetried_AndTheErrorNamesStatusAndUrl(int status)
    {
        using var server = new CallbackServer((_, _) => (status, TimeSpan.Zero));
        var url = server.Url("api/v1/pipelineStatus/job/task");

        var error = await Assert.ThrowsAsync<CallbackException>(() => Client().SendAsync(HttpMethod.Put, url, Body, "application/json", default));

        Assert.Single(server.Requests);
        Assert.Equal("PUT", server.Requests.Single().Method);
        Assert.True(error.IsPermanent);
        Assert.Equal((HttpStatusCode)status, error.StatusCode);
        Assert.Contains(status.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeouts_AreRetried()
    {
        // The retry must be answered within its own timeout on a busy machine, so that timeout is not tight.
        using var server = new CallbackServer((n, _) => (200, n == 0 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero));

        await Client(timeoutSeconds: 3).SendAsync(HttpMethod.Post, server.Url("slow"), Body, "application/json", default);

        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task PersistentFailure_GivesUpAfterMaxAttempts_NamingTheLastError()
    {
        using var server = new CallbackServer((_, _) => (502, TimeSpan.Zero));

        var error = await Assert.ThrowsAsync<CallbackException>(() => Client(attempts: 3).SendAsync(HttpMethod.Post, server.Url("x"), Body, "application/json", default));

        Assert.Equal(3, server.Requests.Count);
        Assert.False(error.IsPermanent);
        Assert.Contains("after 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("502", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableUrl_IsRetried_ThenReported()
    {
        var url = new Uri($"http://127.0.0.1:{Ports.Free()}/api");

        var error = await Assert.ThrowsAsync<CallbackException>(() => Client(attempts: 2).SendAsync(HttpMethod.Post, url, Body, "application/json", default));

        Assert.Null(error.StatusCode);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("after 2 attempt(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestPublisher_SpoolsWhileTheEndpointFails_ThenDeliversInOrder()
    {
        // The endpoint fails its first 20 requests, as a service restarting would.
        using var server = new CallbackServer((n, _) => (n < 20 ? 503 : 200, TimeSpan.Zero));
        var client = Client(attempts: 1);
        await using (var publisher = new RestPublisher(new SpooledDelivery(
            new RestLink(client, HttpMethod.Post, server.Url("measurements")),
            DurableSpool.Open(new SpoolOptions { Directory = _dir }, NullLogger.Instance),
            NullLogger.Instance,
            new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50)))))
        {
            for (var i = 0; i < 30; i++)
            {
                await publisher.PublishAsync(new Measurement("env.count", (long)i, Measurement.MinimumTimestampNs + i), default);
            }

            Assert.True(await publisher.Delivery.FlushAsync(TimeSpan.FromMinutes(1)), $"{publisher.Delivery.Waiting} still spooled");
        }

        var accepted = server.Requests.Skip(20).Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), accepted.Select(m => m.GetProperty("val").GetInt64()));
        Assert.Equal("env.count", accepted[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task RestPublisher_DropsAndCountsWhatTheEndpointRefuses_AndGoesOn()
    {
        using var server = new CallbackServer((_, r) => (r.Body.EndsWith("\"val\":1}", StringComparison.Ordinal) ? 400 : 200, TimeSpan.Zero));
        await using var publisher = new RestPublisher(new SpooledDelivery(
            new RestLink(Client(attempts: 1), HttpMethod.Put, server.Url("m")),
            DurableSpool.Open(new SpoolOptions { Directory = _dir }, NullLogger.Instance),
            NullLogger.Instance));

        await publisher.PublishAsync(new Measurement("env.count", 0L, Measurement.MinimumTimestampNs), default);
        var refused = await Assert.ThrowsAsync<DeliveryRejectedException>(async () => await publisher.PublishAsync(new Measurement("env.count", 1L, Measurement.MinimumTimestampNs), default));
        await publisher.PublishAsync(new Measurement("env.count", 2L, Measurement.MinimumTimestampNs), default);

        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(2, publisher.Delivery.Delivered);
        Assert.Equal(0, publisher.Delivery.Waiting);
        Assert.All(server.Requests, r => Assert.Equal("PUT", r.Method));
    }
}
