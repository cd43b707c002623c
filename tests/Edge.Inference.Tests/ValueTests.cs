using Edge.Testing;

namespace Edge.Inference.Tests;

/// <summary>Sequences, maps and optionals through a real ONNX Runtime (maps.onnx from build/models).</summary>
public sealed class ValueTests
{
    [Fact]
    public void Describe_NamesNonTensorTypes()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("maps.onnx"));

        Assert.Equal(OnnxValueKind.Map, session.Inputs[0].Kind);
        Assert.Equal("m: map(Int64,Float[])", session.Inputs[0].ToString());
        Assert.Equal(OnnxValueKind.Sequence, session.Inputs[2].Kind);
        Assert.Equal(TensorElementType.Float, session.Inputs[2].ElementType);
        Assert.Equal("zipped: seq(map(Int64,Float[]))", session.Outputs[1].ToString());
    }

    [Fact]
    public void Run_MapAndSequenceInputs_SequenceOfMapsOutput()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("maps.onnx"));
        using var keys = Tensor.Wrap<long>(new long[] { 3, 1 }, [2]);
        using var mapValues = Tensor.Wrap<float>(new[] { 0.5f, 2f }, [2]);
        using var scores = Tensor.Wrap<float>(new[] { 0.1f, 0.7f, 0.2f }, [1, 3]);
        using var first = Tensor.Wrap<float>(new[] { 1f }, [1]);
        using var second = Tensor.Wrap<float>(new[] { 1f, 2f, 3f }, [3]);
        using var m = OnnxValue.Map(keys, mapValues);
        using var items = OnnxValue.Sequence([first, second]);
        using var scoresValue = OnnxValue.FromTensor(scores);

        using var outputs = session.Run(new Dictionary<string, OnnxValue> { ["m"] = m, ["scores"] = scoresValue, ["items"] = items });

        Assert.Equal([2f, 0f, 0.5f], outputs["vec"].Tensor!.As<float>().ToArray());
        var zipped = outputs["zipped"];
        Assert.Equal(OnnxValueKind.Sequence, zipped.Kind);
        var map = Assert.Single(zipped.Elements);
        Assert.Equal(OnnxValueKind.Map, map.Kind);
        Assert.Equal([10L, 20L, 30L], map.Keys!.As<long>().ToArray());
        Assert.Equal([0.1f, 0.7f, 0.2f], map.Values!.As<float>().ToArray());
        Assert.Equal([2L], outputs["count"].Tensor!.As<long>().ToArray());
    }

    [Fact]
    public void Run_SequenceRoundTrip_AndOptionalWithoutValue()
    {
        var suite = Conformance.NodeConformanceTests.SuiteFolder;
        using var identity = InferenceSession.Load(Path.Combine(suite, "test_identity_sequence", "model.onnx"));
        using var a = Tensor.Wrap<float>(new[] { 1f, 2f }, [1, 1, 1, 2]);
        using var b = Tensor.Wrap<float>(new[] { 3f, 4f, 5f, 6f }, [1, 1, 2, 2]);
        using var sequence = OnnxValue.Sequence([a, b]);
        using (var outputs = identity.Run(new Dictionary<string, OnnxValue> { ["x"] = sequence }))
        {
            var result = outputs[0];
            Assert.Equal(2, result.Elements.Count);
            Assert.Equal([3f, 4f, 5f, 6f], result.Elements[1].Tensor!.As<float>().ToArray());
            Assert.Equal([1L, 1, 2, 2], result.Elements[1].Tensor!.Shape.ToArray());
        }

        using var hasElement = InferenceSession.Load(Path.Combine(suite, "test_optional_has_element_empty", "model.onnx"));
        Assert.Equal(OnnxValueKind.Optional, hasElement.Inputs[0].Kind);
        using var none = OnnxValue.Optional(null);
        using var answer = hasElement.Run(new Dictionary<string, OnnxValue> { [hasElement.Inputs[0].Name] = none });
        Assert.False(answer[0].Tensor!.As<bool>().Span[0]);
    }

    [Fact]
    public void WrongKinds_AreRefusedWithTheDeclaredType()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("maps.onnx"));
        using var scores = Tensor.Wrap<float>(new[] { 0.1f, 0.7f, 0.2f }, [1, 3]);
        using var scoresValue = OnnxValue.FromTensor(scores);

        var wrongKind = Assert.Throws<OnnxRuntimeException>(() =>
            session.Run(new Dictionary<string, OnnxValue> { ["m"] = scoresValue, ["scores"] = scoresValue, ["items"] = scoresValue }));
        Assert.Contains("Input 'm' is map(Int64,Float[]); the value given is Float[1,3]", wrongKind.Message);

        var tensorPath = Assert.Throws<OnnxRuntimeException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["m"] = scores, ["scores"] = scores, ["items"] = scores }));
        Assert.Contains("Input 'm' is map(Int64,Float[]), not a tensor; run the model with OnnxValue inputs", tensorPath.Message);

        var empty = Assert.Throws<OnnxRuntimeException>(() => OnnxValue.Sequence([]));
        Assert.Contains("Number of values should be at least 1", empty.Message);
    }
}
