using System.Text;

namespace Edge.Plugin.Waggle.Tests;

/// <summary>Reading data.topic bodies as pywaggle's wagglemsg.load does, and refusing what a measurement cannot hold.</summary>
public sealed class WaggleMessageReaderTests
{
    private const long Ts = 1_795_262_400_123_456_789;

    private static Measurement Read(string body)
    {
        Assert.True(WaggleMessageReader.TryRead(Encoding.UTF8.GetBytes(body), out var measurement, out var reason), reason);
        return measurement;
    }

    [Theory]
    [InlineData("2", MeasurementKind.WholeNumber, "2")]
    [InlineData("-9223372036854775808", MeasurementKind.WholeNumber, "-9223372036854775808")]
    [InlineData("2.0", MeasurementKind.RealNumber, "2")]
    [InlineData("1e3", MeasurementKind.RealNumber, "1000")]
    [InlineData("-0.25", MeasurementKind.RealNumber, "-0.25")]
    [InlineData("\"caf\\u00e9\"", MeasurementKind.Text, "café")]
    public void Value_KeepsTheTypeJsonGaveIt_AsPythonReadsIt(string json, MeasurementKind kind, string text)
    {
        var measurement = Read($$"""{"name":"env.x","ts":{{Ts}},"meta":{},"val":{{json}}}""");

        Assert.Equal((kind, text), (measurement.Value.Kind, measurement.Value.ToString()));
    }

    [Fact]
    public void NameTimestampAndMeta_ComeFromTheBody_MetaMayBeAbsent()
    {
        var tagged = Read($$"""{"name":"env.count.car","ts":{{Ts}},"meta":{"camera":"top","plugin":"p:1"},"val":3}""");
        var bare = Read($$"""{"val":3,"ts":{{Ts}},"name":"env.count"}""");

        Assert.Equal(("env.count.car", Ts, "top", "p:1"), (tagged.Name, tagged.TimestampNs, tagged.Meta["camera"], tagged.Meta["plugin"]));
        Assert.Equal("env.count", bare.Name);
        Assert.Empty(bare.Meta);
    }

    [Theory]
    [InlineData("", "not JSON")]
    [InlineData("{\"name\":", "not JSON")]
    [InlineData("[1,2]", "the body is a JSON array, not an object")]
    [InlineData("{\"ts\":1795262400123456789,\"val\":1}", "name is missing or not a string")]
    [InlineData("{\"name\":7,\"ts\":1795262400123456789,\"val\":1}", "name is missing or not a string")]
    [InlineData("{\"name\":\"a.b\",\"val\":1}", "ts is missing or not an integer")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1.7952624e18,\"val\":1}", "ts is missing or not an integer")]
    [InlineData("{\"name\":\"a.b\",\"ts\":\"1795262400123456789\",\"val\":1}", "ts is missing or not an integer")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"meta\":[],\"val\":1}", "meta is a JSON array, not an object")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"meta\":{\"n\":1},\"val\":1}", "meta.n is a JSON number; meta values are strings")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789}", "val is missing")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"val\":null}", "val is a JSON null")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"val\":[1]}", "val is a JSON array")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"val\":100000000000000000000}", "val 100000000000000000000 is an integer beyond 64 bits")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"val\":1e999}", "val 1e999 is not a finite 64-bit float")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400123456789,\"enc\":\"b64\",\"val\":\"AAE=\"}", "val is binary (enc b64)")]
    [InlineData("{\"name\":\"A.b\",\"ts\":1795262400123456789,\"val\":1}", "has an invalid part 'A'")]
    [InlineData("{\"name\":\"a.b\",\"ts\":1795262400,\"val\":1}", "before 2000-01-01 in nanoseconds")]
    public void Malformed_IsRefused_SayingWhy(string body, string reason)
    {
        Assert.False(WaggleMessageReader.TryRead(Encoding.UTF8.GetBytes(body), out var measurement, out var why));

        Assert.Null(measurement);
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }
}
