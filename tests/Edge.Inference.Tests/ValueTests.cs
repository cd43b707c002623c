using Edge.Testing;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

/// <summary>Sequences, maps and optionals through a real ONNX Runtime (maps.onnx from build/models).</summary>
public sealed class ValueTests
{
    [Fact]
    public void Describe_NamesNonTensorTypes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("maps.onnx"));

        Assert.Equal(OnnxValueType.ONNX_TYPE_MAP, model.Inputs[0].Kind);
        Assert.Equal("m: map(Int64,Float[])", model.Inputs[0].ToString());
        Assert.Equal(OnnxValueType.ONNX_TYPE_SEQUENCE, model.Inputs[2].Kind);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, model.Inputs[2].ElementType);
        Assert.Equal("zipped: seq(map(Int64,Float[]))", model.Outputs[1].ToString());
    }

    [Fact]
    public void Run_MapAndSequenceInputs_SequenceOfMapsOutput()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("maps.onnx"));
        using var m = OrtValue.CreateMap(new long[] { 3, 1 }, new[] { 0.5f, 2f });
        using var scores = Values.Tensor(new[] { 0.1f, 0.7f, 0.2f }, 1, 3);
        using var items = OrtValue.CreateSequence(new List<OrtValue> { Values.Tensor(new[] { 1f }, 1), Values.Tensor(new[] { 1f, 2f, 3f }, 3) });

        using var outputs = model.Run(new Dictionary<string, OrtValue> { ["m"] = m, ["scores"] = scores, ["items"] = items });

        Assert.Equal([2f, 0f, 0.5f], Values.Read<float>(outputs[0]));
        var zipped = outputs[1];
        Assert.Equal(OnnxValueType.ONNX_TYPE_SEQUENCE, zipped.OnnxType);
        Assert.Equal(1, zipped.GetValueCount());
        using var map = zipped.GetValue(0, OrtAllocator.DefaultInstance);
        Assert.Equal(OnnxValueType.ONNX_TYPE_MAP, map.OnnxType);
        using var keys = map.GetValue(0, OrtAllocator.DefaultInstance);
        using var values = map.GetValue(1, OrtAllocator.DefaultInstance);
        Assert.Equal([10L, 20L, 30L], Values.Read<long>(keys));
        Assert.Equal([0.1f, 0.7f, 0.2f], Values.Read<float>(values));
        Assert.Equal([2L], Values.Read<long>(outputs[2]));
    }

    [Fact]
    public void Run_OptionalLeftOut_IsAnAbsentValue()
    {
        const string suite = "/usr/share/libonnx-testdata/data/node";
        using var hasElement = OnnxModel.Load(Path.Combine(suite, "test_optional_has_element_empty", "model.onnx"));
        Assert.Equal(OnnxValueType.ONNX_TYPE_OPTIONAL, hasElement.Inputs[0].Kind);

        using var answer = hasElement.Run(new Dictionary<string, OrtValue>());

        Assert.False(Values.Read<bool>(answer[0])[0]);
    }

    [Fact]
    public void WrongKinds_AreRefusedWithTheDeclaredType()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("maps.onnx"));
        using var scores = Values.Tensor(new[] { 0.1f, 0.7f, 0.2f }, 1, 3);
        using var m = OrtValue.CreateMap(new long[] { 3, 1 }, new[] { 0.5f, 2f });

        var tensorForMap = Assert.Throws<InferenceException>(() =>
            model.Run(new Dictionary<string, OrtValue> { ["m"] = scores, ["scores"] = scores, ["items"] = scores }));
        var mapForTensor = Assert.Throws<InferenceException>(() =>
            model.Run(new Dictionary<string, OrtValue> { ["m"] = m, ["scores"] = m, ["items"] = scores }));

        Assert.Contains("maps.onnx", tensorForMap.Message, StringComparison.Ordinal);
        Assert.Contains("input 'scores' is Float[1,3]; the value given is a ONNX_TYPE_MAP", mapForTensor.Message, StringComparison.Ordinal);
    }
}
