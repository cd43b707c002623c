using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Plugin.Hosting.Health;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting.Tests.Health;

public sealed class HealthEndpointTests : IAsyncLifetime
{
    private readonly ManualTime _time = new();
    private readonly SpoolingPublisher _spool = new();
    private readonly PluginHealth _health;
    private readonly HealthEndpoint _endpoint;

    public HealthEndpointTests()
    {
        _health = new PluginHealth([_spool], _time);
        _endpoint = new HealthEndpoint(_health, Options.Create(new HealthOptions { Port = 0, Address = "127.0.0.1", StaleAfterSeconds = 60 }), NullLogger<HealthEndpoint>.Instance);
    }

    public Task InitializeAsync() => _endpoint.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _endpoint.StopAsync(CancellationToken.None);
        _endpoint.Dispose();
    }

    private async Task<(HttpStatusCode Code, string Body)> GetAsync(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{_endpoint.Port}{path}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BeforeTheSourceOpens_AliveButNotReady()
    {
        var live = await GetAsync("/healthz");
        var ready = await GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, live.Code);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Code);
        Assert.Contains("\"status\":\"starting\"", ready.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAFrame_ReadyWithLastFrameTimeAndBacklog()
    {
        _spool.Backlog = 7;
        _health.SourceOpened("camera.jpg");
        _health.FrameSucceeded();

        var ready = await GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, ready.Code);
        Assert.Contains("\"input\":\"camera.jpg\"", ready.Body, StringComparison.Ordinal);
        Assert.Contains($"\"lastFrame\":\"{_time.GetUtcNow().UtcDateTime:O}\"", ready.Body, StringComparison.Ordinal);
        Assert.Contains("\"frames\":1", ready.Body, StringComparison.Ordinal);
        Assert.Contains("\"publisherBacklog\":7", ready.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailingSource_IsNotReadyAndSaysWhy()
    {
        _health.SourceOpened("http://camera:8090/live");
        _health.SourceFailed("connection refused");

        var ready = await GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Code);
        Assert.Contains("\"error\":\"connection refused\"", ready.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoFrameForLongerThanStaleAfter_IsNotAlive()
    {
        _health.SourceOpened("camera");
        _health.FrameSucceeded();
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/healthz")).Code);

        _time.Advance(TimeSpan.FromSeconds(2));
        var live = await GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, live.Code);
        Assert.Contains("no frame has succeeded for more than 60 s", live.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPath_Is404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/metrics")).Code);
    }

    [Fact]
    public async Task GarbageRequest_Is400AndTheEndpointKeepsServing()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, _endpoint.Port!.Value);
            var stream = client.GetStream();
            await stream.WriteAsync("BREW /pot HTCPCP/1.0\r\n\r\n"u8.ToArray());
            var reply = new byte[512];
            var read = await stream.ReadAsync(reply);
            Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(reply, 0, read), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/healthz")).Code);
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class SpoolingPublisher : IMeasurementPublisher, IPublisherBacklog
    {
        public string Name => "spool";

        public long Backlog { get; set; }

        public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
