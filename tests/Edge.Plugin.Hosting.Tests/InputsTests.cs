using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>Choosing a source from -input, the test pattern, Waggle camera names, and file options.</summary>
public sealed class InputsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-inputs-").FullName;

    private static string Data => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("pattern://", 640, 480)]
    [InlineData("testsrc", 640, 480)]
    [InlineData("pattern://?width=64&height=32&fps=50", 64, 32)]
    public async Task Pattern_MovingFrames_OfTheAskedSize(string input, int width, int height)
    {
        await using var source = FrameSources.Create(input);

        using var first = await source.ReadAsync(default);
        using var second = await source.ReadAsync(default);

        Assert.Equal((width, height, PixelFormat.Rgb24), (first!.Width, first.Height, first.Format));
        Assert.False(first.Pixels.SequenceEqual(second!.Pixels), "consecutive frames differ");
        Assert.Equal(0, first.Pixels[0]);
        Assert.Equal(1, second.Pixels[0]);
        Assert.True(second.TimestampNs > first.TimestampNs);
    }

    [Fact]
    public async Task Pattern_Frames_IsFinite()
    {
        await using var source = FrameSources.Create("pattern://?frames=3&fps=100&width=8&height=8");
        var count = 0;
        while (await source.ReadAsync(default) is { } frame)
        {
            frame.Dispose();
            count++;
        }

        Assert.Equal(3, count);
    }

    [Fact]
    public void Pattern_UnknownParameter_IsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => FrameSources.Create("pattern://?colour=red"));

        Assert.Contains("colour", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WaggleCamera_ResolvesThroughMatchIdToHandlerUrl()
    {
        var config = WriteConfig();

        Assert.Equal("http://10.31.81.12:8090/live", WaggleCameras.Resolve("bottom_camera", config));
        Assert.Equal("rtsp://10.31.81.13/stream1", WaggleCameras.Resolve("top_camera", config));
    }

    [Fact]
    public void WaggleCamera_Unknown_ListsTheKnownOnes()
    {
        var error = Assert.Throws<FileNotFoundException>(() => WaggleCameras.Resolve("left_camera", WriteConfig()));

        Assert.Contains("bottom_camera, top_camera", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WaggleCamera_NoConfig_IsNull_AndCreateExplains()
    {
        Assert.Null(WaggleCameras.Resolve("bottom_camera", Path.Combine(_folder, "none.json")));
        if (!File.Exists(WaggleCameras.ConfigPath))
        {
            var error = Assert.Throws<FileNotFoundException>(() => FrameSources.Create("bottom_camera"));
            Assert.Contains(WaggleCameras.ConfigVariable, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WaggleCamera_NotJson_SaysSo()
    {
        var path = Path.Combine(_folder, "bad.json");
        File.WriteAllText(path, "{ not json");

        var error = Assert.Throws<FormatException>(() => WaggleCameras.Resolve("bottom_camera", path));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Folder_Loop_StartsAgain()
    {
        await using var source = FrameSources.Create(Data, new InputOptions { Loop = true });
        var names = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            using var frame = await source.ReadAsync(default);
            names.Add(Path.GetFileName(frame!.Source));
        }

        Assert.Equal(["forest.png", "red-apple.jpg", "sky.jpg", "forest.png", "red-apple.jpg", "sky.jpg", "forest.png"], names);
    }

    [Fact]
    public async Task Folder_ShuffleWithSeed_IsAPermutation_Reproducible()
    {
        for (var i = 0; i < 12; i++)
        {
            File.Copy(Path.Combine(Data, "sky.jpg"), Path.Combine(_folder, $"{i:D2}.jpg"));
        }

        var first = await Names(new InputOptions { Shuffle = true, Seed = 7 });
        var again = await Names(new InputOptions { Shuffle = true, Seed = 7 });
        var ordered = await Names(new InputOptions());

        Assert.Equal(first, again);
        Assert.NotEqual(ordered, first);
        Assert.Equal(ordered, first.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Folder_TargetSize_ScalesJpegs()
    {
        await using var source = FrameSources.Create(Path.Combine(Data, "sky.jpg"), new InputOptions { Width = 80, Height = 60 });

        using var frame = await source.ReadAsync(default);

        Assert.Equal((80, 60), (frame!.Width, frame.Height));
    }

    [Theory]
    [InlineData(-1, 0, 1, "Width")]
    [InlineData(0, 0, 3, "Capacity")]
    public void Options_OutOfRange_NameTheKey(int width, int height, int capacity, string key)
    {
        var error = Assert.Throws<ArgumentException>(() => FrameSources.Create("testsrc", new InputOptions { Width = width, Height = height, Capacity = capacity }));

        Assert.Contains($"Inputs:{key}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_ReadsInputsSection_AndReportsInputHealth()
    {
        var builder = EdgePlugin.CreateBuilder(["-input", "pattern://?frames=3&fps=100"]);
        builder.Configuration["Inputs:Width"] = "48";
        builder.Configuration["Inputs:Height"] = "36";
        builder.AddPlugin<RecordingPlugin>();
        await using var host = builder.Build();

        var exit = await host.RunAsync();

        var plugin = host.Services!.GetRequiredService<RecordingPlugin>();
        Assert.Equal(0, exit);
        Assert.Equal(["48x36", "48x36", "48x36"], plugin.Sizes);
        Assert.Equal(SourceState.Healthy, plugin.Health!.State);
        Assert.True(plugin.Health.Frames >= 1);
    }

    private async Task<List<string>> Names(InputOptions options)
    {
        await using var source = FrameSources.Create(_folder, options);
        var names = new List<string>();
        while (await source.ReadAsync(default) is { } frame)
        {
            names.Add(Path.GetFileName(frame.Source));
            frame.Dispose();
        }

        return names;
    }

    private string WriteConfig()
    {
        var path = Path.Combine(_folder, "data-config.json");
        File.WriteAllText(path, """
            [
              {"name": "bottom", "match": {"id": "bottom_camera", "type": "camera", "orientation": "bottom", "resolution": "1920x1080"},
               "handler": {"type": "video", "args": {"url": "http://10.31.81.12:8090/live"}}},
              {"name": "top", "match": {"id": "top_camera", "type": "camera"},
               "handler": {"type": "video", "args": {"url": "rtsp://10.31.81.13/stream1"}}},
              {"name": "mic", "match": {"type": "microphone"}, "handler": {"type": "audio"}}
            ]
            """);
        return path;
    }

    internal sealed class RecordingPlugin : FramePlugin
    {
        public List<string> Sizes { get; } = [];

        public SourceHealth? Health { get; private set; }

        protected internal override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            Sizes.Add($"{frame.Width}x{frame.Height}");
            Health = context.InputHealth;
            return ValueTask.CompletedTask;
        }
    }
}
