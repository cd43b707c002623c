using Edge.Plugin;
using Edge.Testing;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

public sealed class ModelTests
{
    [Fact]
    public void Runtime_ReportsVersionLocationAndManagedFloor()
    {
        OnnxRuntimeLibrary.EnsureLoaded();

        Assert.Equal("1.30.0", OnnxRuntimeLibrary.Version);
        Assert.Equal("1.30.0", OnnxRuntimeLibrary.ManagedVersion);
        // The tests reference the CPU runtime package; its file, not some copy on the system, is the one in use.
        Assert.EndsWith(Path.Combine("runtimes", "linux-x64", "native", "libonnxruntime.so"), OnnxRuntimeLibrary.LibraryPath, StringComparison.Ordinal);
        Assert.True(File.Exists(OnnxRuntimeLibrary.LibraryPath));
        Assert.Contains("CPUExecutionProvider", OnnxRuntimeLibrary.CompiledProviders);
    }

    [Fact]
    public void Load_DescribesInputsOutputsAndMetadata()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"));

        var input = Assert.Single(model.Inputs);
        Assert.Equal("image", input.Name);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, input.ElementType);
        Assert.Equal([1L, 3, 224, 224], input.Shape);
        Assert.NotNull(input.Metadata);
        var output = Assert.Single(model.Outputs);
        Assert.Equal("probabilities", output.Name);
        Assert.Equal("edge-sdk build/models", model.Metadata.ProducerName);
        Assert.Equal(["red", "green", "blue"], model.Labels);
        Assert.Equal("CPU", model.ExecutionProvider);
        // The official session is there for whatever the model does not wrap.
        Assert.Equal(["image"], model.Session.InputNames);
    }

    [Fact]
    public void Load_SymbolicDimensionsAreNamed()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("dynamic-relu.onnx"));

        var input = Assert.Single(model.Inputs);
        Assert.Equal([-1L, 3], input.Shape);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal("[batch,3]", input.ShapeText);
        Assert.False(input.IsStatic);
    }

    [Fact]
    public void Run_ByName_AddsTwoTensors()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[] { 1, 2, 3, 4 }, 1, 4);
        using var b = Values.Tensor(new float[] { 10, 20, 30, 40.5f }, 1, 4);

        using var outputs = model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = b });

        Assert.Equal([11f, 22f, 33f, 44.5f], Values.Read<float>(Assert.Single(outputs)));
    }

    [Fact]
    public void Load_FromBytes_Runs()
    {
        using var model = OnnxModel.Load(File.ReadAllBytes(RepoPaths.Model("add.onnx")));
        using var a = Values.Tensor(new float[] { 1.5f, 1.5f, 1.5f, 1.5f }, 1, 4);
        using var b = Values.Tensor(new float[] { 2, 2, 2, 2 }, 1, 4);

        using var outputs = model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = b });

        Assert.All(Values.Read<float>(outputs[0]), v => Assert.Equal(3.5f, v));
        Assert.Equal("(bytes)", model.Source);
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid() + ".onnx");

        var error = Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotAModel_NamesTheFileAndKeepsTheRuntimesError()
    {
        var path = Path.Combine(Path.GetTempPath(), "not-a-model-" + Guid.NewGuid() + ".onnx");
        File.WriteAllText(path, "this is not protobuf");
        try
        {
            var error = Assert.Throws<InferenceException>(() => OnnxModel.Load(path));

            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains("could not be loaded", error.Message, StringComparison.Ordinal);
            Assert.IsType<OnnxRuntimeException>(error.InnerException);
            Assert.Contains("InvalidProtobuf", error.InnerException!.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_WrongShape_NamesInputAndBothShapes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[5], 1, 5);
        using var b = Values.Tensor(new float[4], 1, 4);

        var error = Assert.Throws<InferenceException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = b }));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,4]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,5]", error.Message, StringComparison.Ordinal);
        Assert.Contains("add.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongType_NamesInputAndBothTypes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new double[4], 1, 4);
        using var b = Values.Tensor(new float[4], 1, 4);

        var error = Assert.Throws<InferenceException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = b }));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Float", error.Message, StringComparison.Ordinal);
        Assert.Contains("Double", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingOrUnknownInput_ListsTheModelsInputs()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[4], 1, 4);

        var missing = Assert.Throws<InferenceException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a }));
        var unknown = Assert.Throws<InferenceException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["c"] = a }));

        Assert.Contains("'b: Float[1,4]' not given", missing.Message, StringComparison.Ordinal);
        Assert.Contains("has no input 'c'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("a: Float[1,4], b: Float[1,4]", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AfterDispose_ThrowsObjectDisposed()
    {
        var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[4], 1, 4);
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = a }));
    }

    [Fact]
    public void RunFrame_AfterDispose_ThrowsObjectDisposed_AndDisposeTwiceIsHarmless()
    {
        var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"));
        using var frame = SolidFrame(8, 8, 200, 10, 10);
        _ = model.Run(frame);

        model.Dispose();
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Run(frame));
    }

    [Fact]
    public void Run_CancelledToken_ThrowsBeforeRunning()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[4], 1, 4);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = a }, cts.Token));
    }

    [Theory]
    [InlineData(220, 30, 40, "red")]
    [InlineData(10, 200, 90, "green")]
    [InlineData(0, 60, 250, "blue")]
    public void RunFrame_ClassifiesDominantColour(byte r, byte g, byte b, string expected)
    {
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"));
        using var frame = SolidFrame(640, 480, r, g, b);

        var result = model.Run(frame);
        var best = Scores.Top(result[0], 1, model.Labels)[0];

        Assert.Equal(expected, best.Label);
        Assert.InRange(best.Score, 0.5f, 1f);
        Assert.Equal(1f, result["probabilities"].ToArray().Sum(), 3);
    }

    [Fact]
    public void RunFrame_BgrFrameGivesTheSameAnswerAsRgb()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"));
        using var rgb = SolidFrame(50, 40, 200, 10, 10);
        using var bgr = Frame.Rent(50, 40, PixelFormat.Bgr24, Clock.NowNs(), "test");
        for (var i = 0; i < bgr.Pixels.Length; i += 3)
        {
            bgr.Pixels[i] = 10;
            bgr.Pixels[i + 1] = 10;
            bgr.Pixels[i + 2] = 200;
        }

        var fromRgb = model.Run(rgb)[0].ToArray();
        var fromBgr = model.Run(bgr)[0].ToArray();

        Assert.Equal(fromRgb, fromBgr);
    }

    [Fact]
    public void RunFrame_FramesOfDifferentSizes_FillTheSameBoundInput()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"), new OnnxModelOptions { Preprocessing = { Resize = ResizeMode.Letterbox } });
        using var small = SolidFrame(30, 20, 10, 200, 10);
        using var large = SolidFrame(800, 600, 200, 10, 10);

        Assert.Equal("green", Scores.Top(model.Run(small)[0], 1, model.Labels)[0].Label);
        Assert.Equal("red", Scores.Top(model.Run(large)[0], 1, model.Labels)[0].Label);
    }

    [Fact]
    public void RunFrame_ModelWithTwoInputs_SaysWhy()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var frame = SolidFrame(4, 4, 1, 2, 3);

        var error = Assert.Throws<InferenceException>(() => model.Run(frame));

        Assert.Contains("one image input", error.Message, StringComparison.Ordinal);
        Assert.Contains("add.onnx", error.Message, StringComparison.Ordinal);
    }

    internal static Frame SolidFrame(int width, int height, byte r, byte g, byte b)
    {
        var frame = Frame.Rent(width, height, PixelFormat.Rgb24, Clock.NowNs(), "test");
        var pixels = frame.Pixels;
        for (var i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = r;
            pixels[i + 1] = g;
            pixels[i + 2] = b;
        }

        return frame;
    }
}
