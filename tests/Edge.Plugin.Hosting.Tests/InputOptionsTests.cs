using Edge.Plugin.Hosting.Inputs;
using Microsoft.Extensions.Configuration;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>The Inputs durations bind as TimeSpans, and the bare-number slip is caught with the key named.</summary>
public sealed class InputOptionsTests
{
    private static InputOptions Bind(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"Inputs:{key}"] = value }).Build();
        var options = new InputOptions();
        configuration.GetSection(InputOptions.SectionName).Bind(options);
        return options;
    }

    [Fact]
    public void Durations_BindFromTimeSpanText()
    {
        var options = Bind("StallTimeout", "00:00:02.5");

        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.StallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.ReconnectDelay);
    }

    [Theory]
    [InlineData("StallTimeout", "10", "Inputs:StallTimeout must be a positive TimeSpan of at most a day, such as 00:00:10; got 10.00:00:00.")]
    [InlineData("ReconnectDelay", "00:00:00", "Inputs:ReconnectDelay must be a positive TimeSpan")]
    [InlineData("MaxReconnectDelay", "00:00:00.1", "Inputs:MaxReconnectDelay must be at least ReconnectDelay (00:00:00.5000000)")]
    public void BadDuration_NamesTheKeyAndTheFormWanted(string key, string value, string expected)
    {
        var options = Bind(key, value);

        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }
}
