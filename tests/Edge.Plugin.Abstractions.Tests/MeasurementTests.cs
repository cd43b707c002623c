namespace Edge.Plugin.Abstractions.Tests;

public sealed class MeasurementTests
{
    private const long Now = 1_700_000_000_000_000_000;

    [Theory]
    [InlineData("env.count.car")]
    [InlineData("a")]
    [InlineData("sys_1.metric_2")]
    public void Name_FollowingWaggleRules_IsAccepted(string name)
    {
        var m = new Measurement(name, 3L, Now);

        Assert.Equal(name, m.Name);
    }

    [Theory]
    [InlineData("Env.count", "'Env'")]
    [InlineData("env..count", "''")]
    [InlineData("env.count-car", "'count-car'")]
    [InlineData("env.count.", "''")]
    [InlineData("upload", "reserved")]
    public void Name_BreakingWaggleRules_NamesTheRule(string name, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new Measurement(name, 1L, Now));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Name_LongerThan128_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new Measurement(new string('a', 129), 1L, Now));

        Assert.Contains("129 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timestamp_InSeconds_IsRefusedWithAHint()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Measurement("env.x", 1L, 1_700_000_000));

        Assert.Contains("seconds or milliseconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Value_KeepsItsKind()
    {
        Assert.Equal(MeasurementKind.WholeNumber, new Measurement("a", 3L, Now).Value.Kind);
        Assert.Equal(MeasurementKind.RealNumber, new Measurement("a", 0.5, Now).Value.Kind);
        Assert.Equal(MeasurementKind.Text, new Measurement("a", "cat", Now).Value.Kind);
        Assert.Equal("0.1", MeasurementValue.FromDouble(0.1).ToString());
    }

    [Fact]
    public void Clock_RoundTripsNanoseconds()
    {
        var time = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(time, Clock.FromNs(Clock.ToNs(time)));
        Assert.Equal(1_795_262_400_000_000_000, Clock.ToNs(time));
    }
}
