using Edge.Inference;
using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>The model's input size becomes the input's decode size when Inputs:Width/Height are not set.</summary>
public sealed class ModelFrameSizeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-model-size-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string ColourModel => RepoPaths.Model("colour-classifier.onnx");

    private string LargeJpeg()
    {
        var path = Path.Combine(_folder, "large.jpg");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1", "-q:v", "3", "-y", path]);
        return path;
    }

    private static async Task<ClassifyingPlugin> RunAsync(string input, params (string Key, string Value)[] settings)
    {
        var builder = EdgePlugin.CreateBuilder(["-input", input, "-model", ColourModel]);
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.Services.AddOnnxInference();
        builder.AddPlugin<ClassifyingPlugin>();
        await using var host = builder.Build();

        var exit = await host.RunAsync();

        Assert.Equal(0, exit);
        return host.Services!.GetRequiredService<ClassifyingPlugin>();
    }

    [Fact]
    public void Session_FixedImageInput_HintsItsSize_OtherModelsDoNot()
    {
        using var colour = OnnxModel.Load(ColourModel);
        using var add = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var dynamic = OnnxModel.Load(RepoPaths.Model("dynamic-relu.onnx"));

        Assert.Equal(new FrameSize(224, 224), colour.FrameSize);
        // Two inputs, and a rank-2 input of free batch: neither is an image of a fixed size.
        Assert.Null(add.FrameSize);
        Assert.Null(dynamic.FrameSize);
    }

    [Fact]
    public void Session_Letterboxing_AsksForFramesThatKeepTheirAspect()
    {
        using var letterbox = OnnxModel.Load(ColourModel, new OnnxModelOptions { Preprocessing = new ImagePreprocessing { Resize = ResizeMode.Letterbox } });

        Assert.Equal(new FrameSize(224, 224, KeepAspect: true), letterbox.FrameSize);
    }

    [Fact]
    public async Task Host_SampleModel_LargeJpeg_DecodedAtLeastModelSize_SmallerThanOriginal()
    {
        var plugin = await RunAsync(LargeJpeg());

        var (width, height) = Assert.Single(plugin.Sizes);
        Assert.True(width >= 224 && height >= 224, $"{width}x{height} covers the model's 224x224");
        Assert.True(width < 1920 && height < 1080, $"{width}x{height} is smaller than the 1920x1080 original");
        // 1/4 is the smallest DCT scale covering 224x224; 1/8 (240x135) would be too short.
        Assert.Equal((480, 270), (width, height));
        Assert.Equal(1, plugin.Predictions);
    }

    [Fact]
    public async Task Host_SampleModel_ConfiguredSizeWins()
    {
        var plugin = await RunAsync(LargeJpeg(), ("Inputs:Width", "640"), ("Inputs:Height", "360"));

        // 3/8 (720x405) is the smallest DCT scale covering 640x360, where the model alone would give 1/4.
        Assert.Equal((720, 405), Assert.Single(plugin.Sizes));
    }

    [Fact]
    public async Task Host_SampleModel_VideoFile_FfmpegEmitsTheModelSize()
    {
        var path = Path.Combine(_folder, "clip.mp4");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=640x480:r=5:d=1", "-c:v", "mpeg4", "-y", path]);

        var plugin = await RunAsync(path);

        Assert.Equal(Enumerable.Repeat((224, 224), 5), plugin.Sizes);
        Assert.Equal(5, plugin.Predictions);
    }

    [Fact]
    public async Task Ffmpeg_KeepAspect_CoversTheSize_Undistorted()
    {
        var path = Path.Combine(_folder, "wide.mp4");
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=5:d=1", "-c:v", "mpeg4", "-y", path]);
        await using var source = (FfmpegFrameSource)FrameSources.Create(path, new InputOptions { Width = 64, Height = 64, KeepAspect = true });

        using var frame = await StreamServers.NextAsync(source);

        Assert.Contains("scale=64:64:force_original_aspect_ratio=increase", source.Arguments);
        // 16:9 covering 64x64 is 114x64 (113.8 rounded), not a squashed 64x64.
        Assert.Equal(64, frame.Height);
        Assert.InRange(frame.Width, 113, 114);
    }

    [Fact]
    public void Hints_LargestEachWay_AnyKeepAspect_NoneWhenConfigured()
    {
        var options = new InputOptions();
        var taken = options.ApplyHints([new Consumer(new FrameSize(224, 224)), new Consumer(null), new Consumer(new FrameSize(640, 160, KeepAspect: true))]);

        Assert.Equal(new FrameSize(640, 224, KeepAspect: true), taken);
        Assert.Equal((640, 224, true), (options.Width, options.Height, options.KeepAspect));

        var configured = new InputOptions { Width = 100, Height = 80 };
        Assert.Null(configured.ApplyHints([new Consumer(new FrameSize(224, 224))]));
        Assert.Equal((100, 80), (configured.Width, configured.Height));
    }

    /// <summary>A frame consumer other than a model, as a plugin might register one.</summary>
    private sealed record Consumer(FrameSize? FrameSize) : IFrameSizeHint;

    internal sealed class ClassifyingPlugin(OnnxModel model) : FramePlugin
    {
        public List<(int Width, int Height)> Sizes { get; } = [];

        public int Predictions { get; private set; }

        protected internal override ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
        {
            Sizes.Add((frame.Width, frame.Height));
            if (model.Run(frame, cancellationToken)["probabilities"].Length == 3)
            {
                Predictions++;
            }

            return ValueTask.CompletedTask;
        }
    }
}
