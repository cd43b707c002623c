using Edge.Testing;

namespace Edge.Inference.Tests;

/// <summary>Every element type round-trips through all-types.onnx (one Identity per type).</summary>
public sealed class TensorTypeTests : IDisposable
{
    private readonly InferenceSession _session = InferenceSession.Load(RepoPaths.Model("all-types.onnx"));

    public void Dispose() => _session.Dispose();

    [Fact]
    public void Describe_ListsEveryElementType()
    {
        var types = _session.Inputs.Select(i => i.ElementType).ToHashSet();

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
    public void EveryNumericType_RoundTripsThroughRuntimeAllocatedOutputs()
    {
        using var inputs = new InputSet(5);
        using var outputs = _session.Run(inputs.ByName);

        Assert.Equal(inputs.ByName.Count, outputs.Count);
        Assert.Equal([1.5f, -2, 3.25f, float.MaxValue, 0], outputs["y_float"].As<float>().ToArray());
        Assert.Equal([1.5, -2, 3.25, double.Epsilon, 0], outputs["y_double"].As<double>().ToArray());
        Assert.Equal([(Half)1.5f, (Half)(-2f), (Half)3.25f, Half.MaxValue, (Half)0f], outputs["y_float16"].As<Half>().ToArray());
        Assert.Equal([1.5f, -2, 3.25f, 256, 0], outputs["y_bfloat16"].As<BFloat16>().ToArray().Select(b => (float)b));
        Assert.Equal([sbyte.MinValue, -1, 0, 1, sbyte.MaxValue], outputs["y_int8"].As<sbyte>().ToArray());
        Assert.Equal([short.MinValue, -1, 0, 1, short.MaxValue], outputs["y_int16"].As<short>().ToArray());
        Assert.Equal([int.MinValue, -1, 0, 1, int.MaxValue], outputs["y_int32"].As<int>().ToArray());
        Assert.Equal([long.MinValue, -1, 0, 1, long.MaxValue], outputs["y_int64"].As<long>().ToArray());
        Assert.Equal([(byte)0, 1, 2, 254, 255], outputs["y_uint8"].As<byte>().ToArray());
        Assert.Equal([(ushort)0, 1, 2, 65534, 65535], outputs["y_uint16"].As<ushort>().ToArray());
        Assert.Equal([0u, 1, 2, uint.MaxValue - 1, uint.MaxValue], outputs["y_uint32"].As<uint>().ToArray());
        Assert.Equal([0ul, 1, 2, ulong.MaxValue - 1, ulong.MaxValue], outputs["y_uint64"].As<ulong>().ToArray());
        Assert.Equal([true, false, true, true, false], outputs["y_bool"].As<bool>().ToArray());
        Assert.Equal(["", "a", "héllo wörld", "日本語", "tab\tand\nnewline"], ((StringTensor)outputs["y_string"]).Values);
    }

    [Fact]
    public void DynamicOutputs_TakeTheShapeOfThisRun()
    {
        foreach (var length in new[] { 5, 0 })
        {
            using var inputs = new InputSet(length);
            using var outputs = _session.Run(inputs.ByName);

            Assert.All(outputs, o => Assert.Equal([length], o.Shape.ToArray()));
        }
    }

    [Fact]
    public void WrongInputName_NamesItAndTheModelsInputs()
    {
        using var inputs = new InputSet(5);
        var renamed = inputs.ByName.ToDictionary(p => p.Key == "x_int8" ? "x_int9" : p.Key, p => p.Value);

        var error = Assert.Throws<OnnxRuntimeException>(() => _session.Run(renamed));

        Assert.Contains("'x_int9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("x_int8: Int8[n]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingInput_IsNamed()
    {
        using var inputs = new InputSet(5);
        var fewer = inputs.ByName.Where(p => p.Key != "x_bool").ToDictionary();

        var error = Assert.Throws<OnnxRuntimeException>(() => _session.Run(fewer));

        Assert.Contains("x_bool", error.Message, StringComparison.Ordinal);
        Assert.Contains("not given", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongTypeByName_NamesInputExpectedAndActual()
    {
        using var inputs = new InputSet(5);
        using var wrong = new Tensor<int>([5]);
        var swapped = new Dictionary<string, Tensor>(inputs.ByName) { ["x_int16"] = wrong };

        var error = Assert.Throws<OnnxRuntimeException>(() => _session.Run(swapped));

        Assert.Contains("'x_int16'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int16", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32[5]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AsWrongType_NamesBothTypes()
    {
        using var tensor = new Tensor<short>([2]);

        var error = Assert.Throws<InvalidCastException>(() => tensor.As<float>());

        Assert.Contains("Int16", error.Message, StringComparison.Ordinal);
        Assert.Contains("Single", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringTensor_CountMustMatchShape()
    {
        var error = Assert.Throws<ArgumentException>(() => new StringTensor(["a", "b"], [3]));

        Assert.Contains("needs 3 strings", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringOutput_CannotBePreallocated()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("all-types.onnx"));
        using var inputs = new InputSet(1);
        var ordered = session.Inputs.Select(i => inputs.ByName[i.Name]).ToArray();
        var outputs = ordered.Select(t => t is StringTensor ? new StringTensor([""], [1]) : t).ToArray();

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run(ordered, outputs));

        Assert.Contains("'y_string'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsingADisposedTensor_Throws()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));
        var a = new Tensor<float>([1, 4]);
        using var b = new Tensor<float>([1, 4]);
        a.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([a, b]));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.15625f)]
    [InlineData(3.1415927f)]
    [InlineData(65504f)]
    public void BFloat16_RoundsToNearestAndWidensExactly(float value)
    {
        var b = (BFloat16)value;
        var back = (float)b;

        Assert.True(MathF.Abs(back - value) <= MathF.Abs(value) / 128f, $"{value} -> {back}");
        Assert.Equal(back, (float)(BFloat16)back);
        Assert.True(float.IsNaN((BFloat16)float.NaN));
    }

    /// <summary>One input tensor per type, of a given length, with known values.</summary>
    private sealed class InputSet : IDisposable
    {
        public InputSet(int length)
        {
            ByName = new Dictionary<string, Tensor>
            {
                ["x_float"] = Make<float>([1.5f, -2, 3.25f, float.MaxValue, 0], length),
                ["x_double"] = Make<double>([1.5, -2, 3.25, double.Epsilon, 0], length),
                ["x_float16"] = Make<Half>([(Half)1.5f, (Half)(-2f), (Half)3.25f, Half.MaxValue, (Half)0f], length),
                ["x_bfloat16"] = Make<BFloat16>([(BFloat16)1.5f, (BFloat16)(-2f), (BFloat16)3.25f, (BFloat16)256f, (BFloat16)0f], length),
                ["x_int8"] = Make<sbyte>([sbyte.MinValue, -1, 0, 1, sbyte.MaxValue], length),
                ["x_int16"] = Make<short>([short.MinValue, -1, 0, 1, short.MaxValue], length),
                ["x_int32"] = Make<int>([int.MinValue, -1, 0, 1, int.MaxValue], length),
                ["x_int64"] = Make<long>([long.MinValue, -1, 0, 1, long.MaxValue], length),
                ["x_uint8"] = Make<byte>([0, 1, 2, 254, 255], length),
                ["x_uint16"] = Make<ushort>([0, 1, 2, 65534, 65535], length),
                ["x_uint32"] = Make<uint>([0, 1, 2, uint.MaxValue - 1, uint.MaxValue], length),
                ["x_uint64"] = Make<ulong>([0, 1, 2, ulong.MaxValue - 1, ulong.MaxValue], length),
                ["x_bool"] = Make<bool>([true, false, true, true, false], length),
                ["x_string"] = new StringTensor(new[] { "", "a", "héllo wörld", "日本語", "tab\tand\nnewline" }[..length], [length]),
            };
        }

        public Dictionary<string, Tensor> ByName { get; }

        public void Dispose()
        {
            foreach (var tensor in ByName.Values)
            {
                tensor.Dispose();
            }
        }

        private static Tensor<T> Make<T>(T[] values, int length)
            where T : unmanaged => Tensor.Wrap<T>(values.AsMemory(0, length), [length]);
    }
}
