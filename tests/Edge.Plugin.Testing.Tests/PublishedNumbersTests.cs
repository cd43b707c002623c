using Edge.Plugin.Hosting;
using Microsoft.Extensions.Configuration;

namespace Edge.Plugin.Testing.Tests;

/// <summary>Real numbers reach publishers without single-precision noise, and rounded when the plugin asks.</summary>
public sealed class PublishedNumbersTests
{
    private static PluginTestHost Host(string? digits) => new(b =>
    {
        if (digits is not null)
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Plugin:SignificantDigits"] = digits });
        }

        b.AddPlugin<Scores>();
    });

    [Fact]
    public async Task ByDefault_ValuesAreKept_AndASingleScoreIsWrittenInItsShortForm()
    {
        var run = await Host(null).RunTicksAsync(1);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Equal((double)0.9f, run.Named("test.score").Single().Value.AsDouble);
        Assert.Equal("0.9", run.Named("test.score").Single().Value.ToString());
        Assert.Equal("0.123456789", run.Named("test.ratio").Single().Value.ToString());
        Assert.Contains(run.Log, l => l.Contains("Finished: 1 tick(s), 0 failure(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignificantDigits_RoundsEveryRealNumberBeforeAnyPublisherSeesIt()
    {
        var run = await Host("3").RunTicksAsync(1);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Equal(0.9, run.Named("test.score").Single().Value.AsDouble);
        Assert.Equal(0.123, run.Named("test.ratio").Single().Value.AsDouble);
        Assert.Equal(12300000.0, run.Named("test.large").Single().Value.AsDouble);
        Assert.Equal(7L, run.Named("test.count").Single().Value.AsInt64);
    }

    [Fact]
    public async Task SignificantDigits_OutOfRange_StopsAtStartNamingTheKey()
    {
        var run = await Host("18").RunTicksAsync(1);

        Assert.Equal(ExitCodes.StartFailed, run.ExitCode);
        Assert.Contains(run.Log, l => l.Contains("Plugin:SignificantDigits must be 0 (shortest exact form) or 1 to 17; got 18.", StringComparison.Ordinal));
        Assert.Empty(run.Published);
    }

    private sealed class Scores : TimerPlugin
    {
        protected override async ValueTask TickAsync(PluginContext context, CancellationToken cancellationToken)
        {
            // A model's score: a float widened to double, 0.8999999761581421 as a double.
            await context.PublishAsync("test.score", 0.9f, cancellationToken: cancellationToken);
            await context.PublishAsync("test.ratio", 0.123456789, cancellationToken: cancellationToken);
            await context.PublishAsync("test.large", 12345678.9, cancellationToken: cancellationToken);
            await context.PublishAsync("test.count", 7L, cancellationToken: cancellationToken);
        }
    }
}
