using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

public sealed class AbacoTests
{
    private static string Probe => Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

    private static string Image(string name) => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", name);

    private static Tool.Result RunAbaco(string? message, params string[] args) =>
        Tool.Run("dotnet", [Probe, "plugin", .. args], environment: new Dictionary<string, string?>
        {
            ["MSG"] = message,
            ["_abaco_actor_id"] = "ef2cb526-fae2-11e6-bf76-0242ac110005-059",
            ["_abaco_execution_id"] = "34998ec0-fae3-11e6-80a4-0242ac110006-053",
            ["WAGGLE_PLUGIN_HOST"] = null,
            ["WAGGLE_APP_ID"] = null,
            ["PYWAGGLE_LOG_DIR"] = null,
        }, timeout: TimeSpan.FromMinutes(2));

    [Fact]
    public void Message_InTheSeedsPythonDictForm_IsRead()
    {
        var values = AbacoMessage.Parse("""{'data_url': 'https://columbuszoo.org/Media/barn.jpg', "data_name": 'barn.jpg', 'predictions': 3, 'verbose': True, 'extra': None, 'size': [224, 224], 'note': 'it\'s'}""");

        Assert.Equal("https://columbuszoo.org/Media/barn.jpg", values["data_url"]);
        Assert.Equal("barn.jpg", values["data_name"]);
        Assert.Equal("3", values["predictions"]);
        Assert.Equal("true", values["verbose"]);
        Assert.Equal("", values["extra"]);
        Assert.Equal("[224, 224]", values["size"]);
        Assert.Equal("it's", values["note"]);
    }

    [Fact]
    public void Message_AsJson_IsRead()
    {
        var values = AbacoMessage.Parse("""{"data_url": "https://x/y.jpg", "predictions": "3", "threshold": 0.5, "on": false}""");

        Assert.Equal(("https://x/y.jpg", "3", "0.5", "false"), (values["data_url"], values["predictions"], values["threshold"], values["on"]));
    }

    [Theory]
    [InlineData("https://x/y.jpg", "expected '{' to start an object")]
    [InlineData("{'data_url' 'x'}", "expected ':' after key 'data_url'")]
    [InlineData("{'data_url': 'x}", "never closed")]
    [InlineData("{'a': 1 'b': 2}", "expected ',' or '}' after the value of 'a'")]
    [InlineData("{'a': banana}", "the value of 'a' must be a quoted string")]
    [InlineData("{'a': 1} trailing", "unexpected text after the closing '}'")]
    public void Message_Malformed_SaysWhereAndWhat(string message, string expected)
    {
        var error = Assert.Throws<FormatException>(() => AbacoMessage.Parse(message));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Matches("at (character [0-9]+|the end) of its [0-9]+ characters", error.Message);
    }

    [Fact]
    public void IntervalInMsg_ThatIsNotANumber_ExitsTwoNamingIt()
    {
        var result = RunAbaco($"{{'input': '{Image("sky.jpg")}', 'interval': 'soon'}}");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error: Plugin:IntervalSeconds is 'soon', which is not a number", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void OneShot_PrintsOnlyTheResultOnStdout_AndExitsZero()
    {
        var result = RunAbaco($"{{'input': '{Image("sky.jpg")}'}}");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Matches("^[0-9]+$", l));

        // Logs exist, but on stderr.
        Assert.Contains("Starting FrameSize", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void OneShot_HandsEveryMessageKeyToThePlugin_AsParameters()
    {
        // Keys are matched without regard to case, as Abaco users write them either way.
        var result = RunAbaco($"{{'input': '{Image("sky.jpg")}', 'LABEL': 'barn owl', 'threshold': 0.5}}");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("barn owl", lines[2]);
    }

    [Fact]
    public async Task OneShot_DownloadsAUrlInput_NamedByDataName()
    {
        var bytes = File.ReadAllBytes(Image("forest.png"));
        using var files = new System.Net.HttpListener();
        var port = Ports.Free();
        files.Prefixes.Add($"http://127.0.0.1:{port}/");
        files.Start();
        var serving = Task.Run(async () =>
        {
            var context = await files.GetContextAsync();
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        });

        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{port}/download?id=7', 'data_name': 'forest.png'}}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void MalformedMessage_IsAClearErrorAndANonZeroExit_WithNothingOnStdoutButUsage()
    {
        var result = RunAbaco("{'input': 'a.jpg',");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("MSG is not a JSON object or Python dict", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public void FailedRun_ExitsNonZero()
    {
        var notAnImage = Path.GetTempFileName();
        File.WriteAllText(notAnImage + ".jpg", "not an image");
        try
        {
            var result = RunAbaco($"{{'input': '{notAnImage}.jpg'}}");

            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal("", result.StandardOutput);
        }
        finally
        {
            File.Delete(notAnImage);
            File.Delete(notAnImage + ".jpg");
        }
    }

    [Fact]
    public void UnreachableDownload_FailsAtStartWithTheUrlNamed()
    {
        var url = $"http://127.0.0.1:{Ports.Free()}/barn.jpg";

        var result = RunAbaco($"{{'data_url': '{url}'}}");

        Assert.Equal(ExitCodes.StartFailed, result.ExitCode);
        Assert.Contains("127.0.0.1", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }
}
