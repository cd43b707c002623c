using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference.Tests.Conformance;

/// <summary>
/// Turns decoded sequence, map and optional test values into ONNX Runtime's <see cref="OrtValue"/>s,
/// and compares outputs with them. ORT's C# API has no optional value of its own: an optional input
/// holding a value is given as that value, one holding nothing is left out of the inputs, and an
/// optional output holding a value comes back as that value (its <see cref="OrtValue.OnnxType"/> is
/// the contained kind, never <see cref="OnnxValueType.ONNX_TYPE_OPTIONAL"/>). An optional output
/// holding nothing is not met in this suite (each optional output the suite expects holds a value);
/// with Microsoft.ML.OnnxRuntime.Managed 1.30 on native 1.30.0 it does not come back at all: a
/// one-node model <c>Optional(type=float)</c> kills the test host inside <c>InferenceSession.Run</c>.
/// Should one ever arrive as a value with no type, it is read as "none".
/// </summary>
internal static class ProtoValues
{
    /// <summary>The value to feed, or null for an optional holding nothing; the caller disposes it (and with it everything inside).</summary>
    /// <param name="proto">The decoded file.</param>
    /// <param name="elementType">The element type the model declares inside the value (a map's value type).</param>
    public static OrtValue? ToValue(ProtoValue proto, TensorElementType elementType)
    {
        switch (proto.Kind)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                return ProtoTensors.ToOrtValue(proto.Tensor!, elementType);
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                var elements = new List<OrtValue>();
                try
                {
                    foreach (var element in proto.Elements)
                    {
                        elements.Add(ToValue(element, elementType) ?? throw new NotSupportedException("a sequence holding an empty optional"));
                    }

                    // Takes the elements over and clears the list; an empty list is refused by ORT's CreateValue.
                    return OrtValue.CreateSequence(elements);
                }
                finally
                {
                    foreach (var element in elements)
                    {
                        element.Dispose();
                    }
                }

            case OnnxValueType.ONNX_TYPE_MAP:
                var keys = ProtoTensors.ToOrtValue(proto.Tensor!, (TensorElementType)proto.Tensor!.DataType);
                OrtValue? values = null;
                try
                {
                    values = MapValues(proto, elementType);
                    return OrtValue.CreateMap(ref keys, ref values);
                }
                finally
                {
                    // CreateMap takes both over and clears the references; on failure they are still ours.
                    keys?.Dispose();
                    values?.Dispose();
                }

            default:
                return proto.Contained is null ? null : ToValue(proto.Contained, elementType);
        }
    }

    /// <summary>Null when <paramref name="actual"/> matches <paramref name="expected"/>, otherwise what differs.</summary>
    public static string? Compare(string name, ProtoValue expected, OrtValue actual)
    {
        if (expected.Kind == OnnxValueType.ONNX_TYPE_OPTIONAL)
        {
            var holdsNothing = actual.OnnxType == OnnxValueType.ONNX_TYPE_UNKNOWN;
            if (expected.Contained is null || holdsNothing)
            {
                return (expected.Contained is null) == holdsNothing ? null : $"output '{name}' is {Describe(actual)}, expected {(expected.Contained is null ? "none" : "a value")}";
            }

            return Compare(name, expected.Contained, actual);
        }

        if (expected.Kind != actual.OnnxType)
        {
            return $"output '{name}' is {Describe(actual)}, expected a {expected.Kind}";
        }

        switch (expected.Kind)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                return NodeConformanceTests.Compare(name, expected.Tensor!, actual);
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                var count = actual.GetValueCount();
                if (expected.Elements.Count != count)
                {
                    return $"output '{name}' has {count} elements, expected {expected.Elements.Count}";
                }

                for (var i = 0; i < count; i++)
                {
                    using var element = actual.GetValue(i, OrtAllocator.DefaultInstance);
                    if (Compare($"{name}[{i}]", expected.Elements[i], element) is { } mismatch)
                    {
                        return mismatch;
                    }
                }

                return null;
            default:
                using (var keys = actual.GetValue(0, OrtAllocator.DefaultInstance))
                using (var values = actual.GetValue(1, OrtAllocator.DefaultInstance))
                {
                    var expectedValues = JoinedValues(expected, ProtoTensors.Describe(values).Type);
                    return NodeConformanceTests.Compare($"{name}.keys", expected.Tensor!, keys)
                        ?? NodeConformanceTests.Compare($"{name}.values", expectedValues, values);
                }
        }
    }

    /// <summary>The value as people read it: <c>ONNX_TYPE_TENSOR Float[3,4]</c>, or just its kind.</summary>
    public static string Describe(OrtValue value)
    {
        if (!value.IsTensor)
        {
            return value.OnnxType.ToString();
        }

        var (type, shape) = ProtoTensors.Describe(value);
        return $"{value.OnnxType} {type}{TensorInfo.FormatShape(shape)}";
    }

    /// <summary>A MapProto keeps its values as a sequence of scalars; ORT takes them as one 1-D tensor.</summary>
    private static OrtValue MapValues(ProtoValue map, TensorElementType elementType) =>
        ProtoTensors.ToOrtValue(JoinedValues(map, elementType), elementType);

    private static TensorProtoData JoinedValues(ProtoValue map, TensorElementType elementType)
    {
        var parts = map.Elements.Select(e => e.Tensor ?? throw new NotSupportedException("map values that are not tensors")).ToList();
        var first = parts.FirstOrDefault();
        var raw = parts.SelectMany(p => p.Raw).ToArray();
        return new TensorProtoData(string.Empty, first?.DataType ?? (int)elementType, [parts.Count], raw,
            [.. parts.SelectMany(p => p.Varints)], [.. parts.SelectMany(p => p.Floats)], [.. parts.SelectMany(p => p.Doubles)], [.. parts.SelectMany(p => p.Strings)]);
    }
}
