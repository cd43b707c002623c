using Edge.Inference;
using Edge.Plugin.Hosting;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Testing.Tests;

/// <summary>The test host runs each kind of plugin through the real host and pipeline, and captures what it publishes.</summary>
public sealed class PluginTestHostTests
{
    private static readonly long T0 = Clock.NowNs();

    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    private static string Model => RepoPaths.Model("colour-classifier.onnx");

    [Fact]
    public async Task Files_AreDecodedAndPublishedInOrder_WithTheirGrabTimes()
    {
        var host = new PluginTestHost(b => b.AddPlugin<FrameSizePlugin>());

        var run = await host.RunAsync([Data("red-apple.jpg"), Data("forest.png")]);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        var sizes = run.Named("test.frame.width");
        Assert.Equal(2, sizes.Count);
        Assert.All(sizes, m => Assert.True(m.Value.AsInt64 > 0));
        Assert.EndsWith("red-apple.jpg", sizes[0].Meta["source"], StringComparison.Ordinal);
        Assert.EndsWith("forest.png", sizes[1].Meta["source"], StringComparison.Ordinal);
        Assert.True(sizes[0].TimestampNs <= sizes[1].TimestampNs);
    }

    [Fact]
    public async Task RealModel_ClassifiesTheSampleImages()
    {
        var host = new PluginTestHost(b =>
        {
            b.Services.AddOnnxInference();
            b.AddPlugin<ColourPlugin>();
        });

        var run = await host.RunAsync([Data("red-apple.jpg"), Data("sky.jpg")], "-model", Model);

        Assert.True(run.ExitCode == ExitCodes.Success, "exit " + run.ExitCode + Environment.NewLine + string.Join(Environment.NewLine, run.Log));
        Assert.Equal(["red", "blue"], run.Named("env.colour").Select(m => m.Value.ToString()));
    }

    [Fact]
    public async Task Frames_GivenByTheTest_ReachThePlugin_AndAFailingFrameIsCountedNotFatal()
    {
        var host = new PluginTestHost(b => b.AddPlugin<FailsOnWideFrames>());
        var now = Clock.NowNs();
        Frame[] frames = [Frame.Rent(4, 2, PixelFormat.Rgb24, now, "a"), Frame.Rent(64, 2, PixelFormat.Rgb24, now + 1, "wide"), Frame.Rent(8, 2, PixelFormat.Rgb24, now + 2, "c")];

        var run = await host.RunAsync(frames);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Equal([4L, 8L], run.Named("test.frame.width").Select(m => m.Value.AsInt64));
        Assert.Contains(run.Log, l => l.Contains("Processing wide failed: too wide", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TimerPlugin_TicksTheGivenNumberOfTimes()
    {
        var host = new PluginTestHost(b => b.AddPlugin<CounterPlugin>());

        var run = await host.RunTicksAsync(5);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], run.Named("env.count").Select(m => m.Value.AsInt64));
    }

    [Fact]
    public async Task TimerPlugin_WithoutAnInterval_FailsAtStartNamingTheOption()
    {
        var host = new PluginTestHost(b => b.AddPlugin<CounterPlugin>());

        var run = await host.RunTicksAsync(1, "-interval", "0");

        Assert.Equal(ExitCodes.StartFailed, run.ExitCode);
        Assert.Contains(run.Log, l => l.Contains("give -interval <seconds>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SubscriptionPlugin_ReceivesOnlyWhatItsPatternsMatch_InOrder()
    {
        var host = new PluginTestHost(b => b.AddPlugin<FahrenheitPlugin>());
        Measurement[] published =
        [
            new("env.temperature", 20.0, T0 + 1),
            new("env.humidity", 50.0, T0 + 2),
            new("my.sensor.a", 1L, T0 + 3),
            new("my.sensor.a.b", 2L, T0 + 4),
            new("sys", "up", T0 + 5),
            new("sys.cpu.load", 0.5, T0 + 6),
            new("env.temperature", 30.0, T0 + 7),
        ];

        var run = await host.RunAsync(published);

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Equal([68.0, 86.0], run.Named("env.temperature.fahrenheit").Select(m => m.Value.AsDouble));
        Assert.Equal(["my.sensor.a", "sys", "sys.cpu.load"], run.Named("test.seen").Select(m => m.Value.ToString()));
        Assert.Equal([T0 + 1, T0 + 7], run.Named("env.temperature.fahrenheit").Select(m => m.TimestampNs));
    }

    [Fact]
    public async Task APluginThatIsNoKnownKind_IsRefusedWhenRegistered()
    {
        var host = new PluginTestHost(b => b.AddPlugin<NotAPlugin>());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => host.RunTicksAsync(1));

        Assert.Contains("derive it from FramePlugin, TimerPlugin or SubscriptionPlugin", error.Message, StringComparison.Ordinal);
    }

    private sealed class FrameSizePlugin : FramePlugin
    {
        protected override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
            context.PublishAsync("test.frame.width", frame.Width, new() { ["source"] = frame.Source }, cancellationToken);
    }

    private sealed class FailsOnWideFrames : FramePlugin
    {
        protected override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken) =>
            frame.Width > 32 ? throw new InvalidOperationException("too wide") : context.PublishAsync("test.frame.width", frame.Width, cancellationToken: cancellationToken);
    }

    private sealed class ColourPlugin(OnnxModel model) : FramePlugin
    {
        protected override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            var best = Scores.Top(model.Run(frame, cancellationToken)["probabilities"], 1, model.Labels)[0];
            await context.PublishAsync("env.colour", best.Label, cancellationToken: cancellationToken);
        }
    }

    private sealed class CounterPlugin : TimerPlugin
    {
        private long _count;

        protected override ValueTask TickAsync(PluginContext context, CancellationToken cancellationToken) =>
            context.PublishAsync("env.count", ++_count, cancellationToken: cancellationToken);
    }

    private sealed class FahrenheitPlugin : SubscriptionPlugin
    {
        public override IReadOnlyList<string> Topics { get; } = ["env.temperature", "my.sensor.*", "sys.#"];

        protected override ValueTask ReceiveAsync(Measurement measurement, PluginContext context, CancellationToken cancellationToken) =>
            measurement.Name == "env.temperature"
                ? context.PublishAsync(new Measurement("env.temperature.fahrenheit", (measurement.Value.AsDouble * 9 / 5) + 32, measurement.TimestampNs), cancellationToken)
                : context.PublishAsync("test.seen", measurement.Name, cancellationToken: cancellationToken);
    }

    private sealed class NotAPlugin;
}
