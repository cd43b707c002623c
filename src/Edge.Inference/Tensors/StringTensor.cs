using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>
/// A tensor of UTF-8 strings. ONNX Runtime keeps strings in its own memory, so the values are copied
/// into the runtime once, when the tensor first runs, and later changes to the list are not seen.
/// </summary>
public sealed class StringTensor : Tensor
{
    private readonly string[] _values;

    /// <summary>Creates a string tensor.</summary>
    /// <param name="values">The strings, in row-major order.</param>
    /// <param name="shape">Its dimensions, all fixed; their product must equal the number of strings.</param>
    public StringTensor(IReadOnlyList<string> values, ReadOnlySpan<long> shape)
        : this([.. values ?? throw new ArgumentNullException(nameof(values))], shape, null)
    {
    }

    private StringTensor(string[] values, ReadOnlySpan<long> shape, OrtHandle? value)
        : base(TensorElementType.String, shape, value)
    {
        if (values.Length != ElementCount)
        {
            throw new ArgumentException($"A string tensor of shape {TensorInfo.FormatShape(shape.ToArray())} needs {ElementCount} strings; {values.Length} were given.", nameof(values));
        }

        if (Array.IndexOf(values, null) is var missing and >= 0)
        {
            throw new ArgumentException($"String {missing} is null; ONNX strings cannot be null.", nameof(values));
        }

        _values = values;
    }

    /// <summary>The strings, in row-major order.</summary>
    public IReadOnlyList<string> Values => _values;

    private protected override unsafe void* DataPointer => null;

    /// <summary>Reads a string tensor that the runtime made, taking ownership of its value.</summary>
    internal static StringTensor FromValue(OrtHandle value, ReadOnlySpan<long> shape)
    {
        var count = checked((int)ShapeSize(shape));
        return new StringTensor(OrtApi.GetStringTensorContent(value.DangerousGetHandle(), count), shape, value);
    }

    private protected override nint CreateValue()
    {
        var value = OrtApi.CreateTensor(OrtApi.GetDefaultAllocator(), Shape, TensorElementType.String);
        try
        {
            OrtApi.FillStringTensor(value, _values);
            return value;
        }
        catch
        {
            OrtApi.Release(OrtRelease.Value, value);
            throw;
        }
    }
}
