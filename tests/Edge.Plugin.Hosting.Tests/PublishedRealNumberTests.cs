using Edge.Plugin.Hosting.Publishing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>How real numbers are written on the wire: no single-precision noise, and still floats.</summary>
public sealed class PublishedRealNumberTests
{
    private const long Ts = 1_795_262_400_123_456_789;

    [Theory]
    [InlineData(0.9f, "0.9")]
    [InlineData(0.1f + 0.2f, "0.3")]
    [InlineData(2.0f, "2.0")]
    [InlineData(1e-8f, "1E-08")]
    public void SingleScore_IsWrittenInItsShortForm(float score, string expected)
    {
        var json = StdoutPublisher.Format(new Measurement("env.score", score, Ts), StdoutFormat.Json);

        Assert.EndsWith($"\"val\":{expected}}}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Double_KeepsEveryDigitItHas()
    {
        var json = StdoutPublisher.Format(new Measurement("env.sum", 0.1 + 0.2, Ts), StdoutFormat.Json);

        Assert.EndsWith("\"val\":0.30000000000000004}", json, StringComparison.Ordinal);
    }
}
