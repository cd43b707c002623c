using Edge.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference.Tests;

/// <summary>Every element type ONNX Runtime's managed API has, through all-types.onnx (one Identity per type).</summary>
public sealed class TensorTypeTests : IDisposable
{
    private readonly OnnxModel _model = OnnxModel.Load(RepoPaths.Model("all-types.onnx"));

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Describe_ListsEveryElementType()
    {
        var types = _model.Inputs.Select(i => i.ElementType).ToHashSet();

        foreach (var expected in new[]
        {
            TensorElementType.Float, TensorElementType.Double, TensorElementType.Float16, TensorElementType.BFloat16,
            TensorElementType.Int8, TensorElementType.Int16, TensorElementType.Int32, TensorElementType.Int64,
            TensorElementType.UInt8, TensorElementType.UInt16, TensorElementType.UInt32, TensorElementType.UInt64,
            TensorElementType.Bool, TensorElementType.String,
        })
        {
            Assert.Contains(expected, types);
        }
    }

    [Fact]
    public void EveryType_RoundTripsThroughRuntimeAllocatedOutputs()
    {
        var inputs = new Dictionary<string, OrtValue>
        {
            ["x_float"] = Values.Tensor(new[] { 1.5f, -2, float.MaxValue }, 3),
            ["x_double"] = Values.Tensor(new[] { 1.5, -2, double.Epsilon }, 3),
            ["x_float16"] = Values.Tensor(new[] { (Float16)1.5f, (Float16)(-2f), (Float16)65504f }, 3),
            ["x_bfloat16"] = Values.Tensor(new[] { (BFloat16)1.5f, (BFloat16)(-2f), (BFloat16)256f }, 3),
            ["x_int8"] = Values.Tensor(new sbyte[] { sbyte.MinValue, 0, sbyte.MaxValue }, 3),
            ["x_int16"] = Values.Tensor(new short[] { short.MinValue, 0, short.MaxValue }, 3),
            ["x_int32"] = Values.Tensor(new[] { int.MinValue, 0, int.MaxValue }, 3),
            ["x_int64"] = Values.Tensor(new[] { long.MinValue, 0, long.MaxValue }, 3),
            ["x_uint8"] = Values.Tensor(new byte[] { 0, 1, 255 }, 3),
            ["x_uint16"] = Values.Tensor(new ushort[] { 0, 1, 65535 }, 3),
            ["x_uint32"] = Values.Tensor(new uint[] { 0, 1, uint.MaxValue }, 3),
            ["x_uint64"] = Values.Tensor(new ulong[] { 0, 1, ulong.MaxValue }, 3),
            ["x_bool"] = Values.Tensor(new[] { true, false, true }, 3),
            ["x_string"] = OrtValue.CreateFromStringTensor(new DenseTensor<string>(new[] { "", "héllo wörld", "日本語" }, [3])),
        };
        try
        {
            using var outputs = _model.Run(inputs);
            var byName = _model.Outputs.Select((o, i) => (o.Name, Value: outputs[i])).ToDictionary(p => p.Name, p => p.Value);

            Assert.Equal([1.5f, -2, float.MaxValue], Values.Read<float>(byName["y_float"]));
            Assert.Equal([1.5, -2, double.Epsilon], Values.Read<double>(byName["y_double"]));
            Assert.Equal([1.5f, -2f, 65504f], Values.Read<Float16>(byName["y_float16"]).Select(h => h.ToFloat()));
            Assert.Equal([1.5f, -2f, 256f], Values.Read<BFloat16>(byName["y_bfloat16"]).Select(b => b.ToFloat()));
            Assert.Equal([sbyte.MinValue, 0, sbyte.MaxValue], Values.Read<sbyte>(byName["y_int8"]));
            Assert.Equal([long.MinValue, 0, long.MaxValue], Values.Read<long>(byName["y_int64"]));
            Assert.Equal([0ul, 1, ulong.MaxValue], Values.Read<ulong>(byName["y_uint64"]));
            Assert.Equal([true, false, true], Values.Read<bool>(byName["y_bool"]));
            Assert.Equal(["", "héllo wörld", "日本語"], byName["y_string"].GetStringTensorAsArray());
        }
        finally
        {
            foreach (var value in inputs.Values)
            {
                value.Dispose();
            }
        }
    }

    [Fact]
    public void WrongTypeByName_NamesInputExpectedAndActual()
    {
        using var wrong = Values.Tensor(new[] { 1, 2, 3 }, 3);

        var error = Assert.Throws<InferenceException>(() => _model.Run(new Dictionary<string, OrtValue> { ["x_int8"] = wrong }));

        Assert.Contains("input 'x_int8' expects Int8[", error.Message, StringComparison.Ordinal);
        Assert.Contains("the tensor given is Int32[3]", error.Message, StringComparison.Ordinal);
    }
}
