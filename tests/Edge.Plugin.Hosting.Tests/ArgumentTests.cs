namespace Edge.Plugin.Hosting.Tests;

public sealed class ArgumentTests
{
    private static Dictionary<string, string?> Parse(params string[] args) =>
        PluginArguments.Parse(args, PluginArguments.Standard) ?? throw new InvalidOperationException("help");

    [Theory]
    [InlineData("-input", "image.jpg")]
    [InlineData("--input", "image.jpg")]
    [InlineData("-input=image.jpg", null)]
    [InlineData("--input=image.jpg", null)]
    public void Input_AcceptsEveryPywaggleForm(string first, string? second)
    {
        var values = second is null ? Parse(first) : Parse(first, second);

        Assert.Equal("image.jpg", values["Plugin:Input"]);
    }

    [Fact]
    public void SeedCommandLine_MapsToConfiguration()
    {
        var values = Parse("-verbose", "-input", "image.jpg", "-model", "app/m.onnx", "-interval", "1");

        Assert.Equal("true", values["Plugin:Verbose"]);
        Assert.Equal("app/m.onnx", values["Inference:Model"]);
        Assert.Equal("1", values["Plugin:IntervalSeconds"]);
    }

    [Fact]
    public void Help_ReturnsNull()
    {
        Assert.Null(PluginArguments.Parse(["-input", "x", "--help"], PluginArguments.Standard));
    }

    [Fact]
    public void UnknownOption_IsNamedWithASuggestion()
    {
        var error = Assert.Throws<UsageException>(() => Parse("-inp", "x"));

        Assert.Contains("'-inp'", error.Message, StringComparison.Ordinal);
        Assert.Contains("-input", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingValue_SaysWhatIsNeeded()
    {
        var error = Assert.Throws<UsageException>(() => Parse("-model", "-verbose"));

        Assert.Contains("-model needs a value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RepeatedOption_IsRefused()
    {
        Assert.Throws<UsageException>(() => Parse("-input", "a", "--input", "b"));
    }

    [Fact]
    public void StrayWord_IsRefused()
    {
        var error = Assert.Throws<UsageException>(() => Parse("image.jpg"));

        Assert.Contains("'image.jpg'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_ListsEveryOption()
    {
        var usage = PluginArguments.Usage("plugin", PluginArguments.Standard);

        foreach (var option in PluginArguments.Standard)
        {
            Assert.Contains("-" + option.Name, usage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null, null, RunMode.Development)]
    [InlineData(null, "rabbitmq", RunMode.Production)]
    [InlineData("dev", "rabbitmq", RunMode.Development)]
    [InlineData("prod", null, RunMode.Production)]
    public void Mode_ComesFromArgumentThenWaggleEnvironment(string? argument, string? waggleHost, RunMode expected)
    {
        var mode = EdgePluginBuilder.ChooseMode(argument, name => name == "WAGGLE_PLUGIN_HOST" ? waggleHost : null);

        Assert.Equal(expected, mode);
    }

    [Fact]
    public void Mode_Unknown_IsAUsageError()
    {
        Assert.Throws<UsageException>(() => EdgePluginBuilder.ChooseMode("fast", _ => null));
    }
}
