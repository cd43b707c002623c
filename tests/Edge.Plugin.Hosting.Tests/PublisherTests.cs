using System.Text.Json;
using Edge.Plugin.Hosting.Publishing;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting.Tests;

public sealed class PublisherTests
{
    private static readonly long Ts = 1_795_262_400_123_456_789;

    private static Measurement Sample() =>
        new("env.colour.dominant", "red", Ts, new Dictionary<string, string> { ["input"] = "a.jpg", ["confidence"] = "0.9" });

    [Fact]
    public async Task RunLog_WritesPywaggleRecordsWithSortedKeys()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        using (var log = new RunLogPublisher(dir))
        {
            await log.PublishAsync(Sample(), default);
            await log.PublishAsync(new Measurement("env.count", 3L, Ts), default);
        }

        var lines = await File.ReadAllLinesAsync(Path.Combine(dir, "data.ndjson"));

        Assert.Equal(2, lines.Length);
        Assert.Equal("""{"meta":{"confidence":"0.9","input":"a.jpg"},"name":"env.colour.dominant","timestamp":"2026-11-21T12:00:00.123456789Z","value":"red"}""", lines[0]);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(3, second.RootElement.GetProperty("value").GetInt64());
    }

    [Fact]
    public void Stdout_FormatsForPeopleMachinesAndAbaco()
    {
        var m = Sample();

        Assert.Equal("env.colour.dominant: red (confidence=0.9, input=a.jpg)", StdoutPublisher.Format(m, StdoutFormat.Text));
        Assert.Equal("red", StdoutPublisher.Format(m, StdoutFormat.Value));
        Assert.Equal("""{"name":"env.colour.dominant","ts":1795262400123456789,"meta":{"confidence":"0.9","input":"a.jpg"},"val":"red"}""", StdoutPublisher.Format(m, StdoutFormat.Json));
    }

    [Fact]
    public async Task Stdout_WritesOneLinePerMeasurement()
    {
        using var output = new StringWriter();
        var publisher = new StdoutPublisher(Options.Create(new StdoutPublisherOptions { Format = StdoutFormat.Value }), output);

        await publisher.PublishAsync(Sample(), default);
        await publisher.PublishAsync(new Measurement("env.x", 0.25, Ts), default);

        Assert.Equal($"red{Environment.NewLine}0.25{Environment.NewLine}", output.ToString());
    }
}
