using Edge.Plugin;
using Edge.Testing;

namespace Edge.Inference.Tests;

public sealed class SessionTests
{
    [Fact]
    public void Runtime_ReportsVersionAndLocation()
    {
        Assert.Equal("1.30.0", OnnxRuntime.Version);
        Assert.EndsWith("libonnxruntime.so.1", OnnxRuntime.LibraryPath, StringComparison.Ordinal);
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.CompiledProviders);
    }

    [Fact]
    public void Load_DescribesInputsOutputsAndMetadata()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("colour-classifier.onnx"));

        var input = Assert.Single(session.Inputs);
        Assert.Equal("image", input.Name);
        Assert.Equal(TensorElementType.Float, input.ElementType);
        Assert.Equal([1L, 3, 224, 224], input.Shape);
        var output = Assert.Single(session.Outputs);
        Assert.Equal("probabilities", output.Name);
        Assert.Equal("edge-sdk build/models", session.Metadata.ProducerName);
        Assert.Equal(["red", "green", "blue"], session.Labels);
        Assert.Equal("CPU", session.ExecutionProvider);
    }

    [Fact]
    public void Load_SymbolicDimensionsAreNamed()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("dynamic-relu.onnx"));

        var input = Assert.Single(session.Inputs);
        Assert.Equal([-1L, 3], input.Shape);
        Assert.Equal("batch", input.SymbolicDimensions[0]);
        Assert.Equal("[batch,3]", input.ShapeText);
        Assert.False(input.IsStatic);
    }

    [Fact]
    public void Run_AddsTwoTensorsInPlace()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        float[] left = [1, 2, 3, 4];
        float[] right = [10, 20, 30, 40.5f];
        left.CopyTo(a.Span);
        right.CopyTo(b.Span);

        session.Run([a, b], [sum]);

        Assert.Equal([11f, 22f, 33f, 44.5f], sum.Span.ToArray());

        // The same tensors run again see the new values: ORT reads the pinned memory, not a copy.
        a.Span[0] = 100;
        session.Run([a, b], [sum]);
        Assert.Equal(110f, sum.Span[0]);
    }

    [Fact]
    public void Run_WrapsCallerMemoryWithoutCopying()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("dynamic-relu.onnx"));
        var input = new float[] { -1, 2, -3, 4, -5, 6 };
        var output = new float[6];
        using var x = Tensor.Wrap<float>(input, [2, 3]);
        using var y = Tensor.Wrap<float>(output, [2, 3]);

        session.Run([x], [y]);

        Assert.Equal([0f, 2, 0, 4, 0, 6], output);
    }

    [Fact]
    public void Load_FromBytes_Runs()
    {
        using var session = InferenceSession.Load(File.ReadAllBytes(RepoPaths.Model("add.onnx")));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        a.Span.Fill(1.5f);
        b.Span.Fill(2);

        session.Run([a, b], [sum]);

        Assert.All(sum.Span.ToArray(), v => Assert.Equal(3.5f, v));
        Assert.Equal("(bytes)", session.Source);
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid() + ".onnx");

        var error = Assert.Throws<FileNotFoundException>(() => InferenceSession.Load(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotAModel_SaysTheRuntimeRejectedIt()
    {
        var path = Path.Combine(Path.GetTempPath(), "not-a-model-" + Guid.NewGuid() + ".onnx");
        File.WriteAllText(path, "this is not protobuf");
        try
        {
            var error = Assert.Throws<OnnxRuntimeException>(() => InferenceSession.Load(path));

            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Equal(OrtErrorCode.InvalidProtobuf, error.ErrorCode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_WrongShape_NamesInputAndBothShapes()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 5]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run([a, b], [sum]));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,4]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[1,5]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongType_NamesInputAndBothTypes()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<double>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run([a, b], [sum]));

        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Float", error.Message, StringComparison.Ordinal);
        Assert.Contains("Double", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WrongInputCount_ListsTheModelsInputs()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run([a], [sum]));

        Assert.Contains("2 input(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("b: Float[1,4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AfterDispose_ThrowsObjectDisposed()
    {
        var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([a, b], [sum]));
    }

    [Fact]
    public void Run_CancelledToken_ThrowsBeforeRunning()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        using var sum = new Tensor<float>([1, 4]);
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => session.Run([a, b], [sum], cts.Token));
    }

    [Theory]
    [InlineData(220, 30, 40, "red")]
    [InlineData(10, 200, 90, "green")]
    [InlineData(0, 60, 250, "blue")]
    public void RunFrame_ClassifiesDominantColour(byte r, byte g, byte b, string expected)
    {
        using var session = InferenceSession.Load(RepoPaths.Model("colour-classifier.onnx"));
        using var frame = SolidFrame(640, 480, r, g, b);

        var result = session.Run(frame);
        var best = Scores.Top(result[0], 1, session.Labels)[0];

        Assert.Equal(expected, best.Label);
        Assert.InRange(best.Score, 0.5f, 1f);
        Assert.Equal(1f, result["probabilities"].ToArray().Sum(), 3);
    }

    [Fact]
    public void RunFrame_BgrFrameGivesTheSameAnswerAsRgb()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("colour-classifier.onnx"));
        using var rgb = SolidFrame(50, 40, 200, 10, 10);
        using var bgr = Frame.Rent(50, 40, PixelFormat.Bgr24, Clock.NowNs(), "test");
        for (var i = 0; i < bgr.Pixels.Length; i += 3)
        {
            bgr.Pixels[i] = 10;
            bgr.Pixels[i + 1] = 10;
            bgr.Pixels[i + 2] = 200;
        }

        var fromRgb = session.Run(rgb)[0].ToArray();
        var fromBgr = session.Run(bgr)[0].ToArray();

        Assert.Equal(fromRgb, fromBgr);
    }

    [Fact]
    public void RunFrame_ModelWithTwoInputs_SaysWhy()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        using var frame = SolidFrame(4, 4, 1, 2, 3);

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run(frame));

        Assert.Contains("one image input", error.Message, StringComparison.Ordinal);
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
