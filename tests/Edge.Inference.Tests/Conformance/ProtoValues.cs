namespace Edge.Inference.Tests.Conformance;

/// <summary>Turns decoded sequence, map and optional test values into <see cref="OnnxValue"/>s, and compares outputs with them.</summary>
internal static class ProtoValues
{
    /// <param name="proto">The decoded file.</param>
    /// <param name="elementType">The element type the model declares inside the value.</param>
    /// <param name="made">Every tensor and value made, for the caller to dispose after the run.</param>
    public static OnnxValue ToValue(ProtoValue proto, TensorElementType elementType, List<IDisposable> made)
    {
        OnnxValue value;
        switch (proto.Kind)
        {
            case OnnxValueKind.Tensor:
                value = OnnxValue.FromTensor(Keep(ProtoTensors.ToTensor(proto.Tensor!, elementType), made));
                break;
            case OnnxValueKind.Sequence:
                value = OnnxValue.Sequence([.. proto.Elements.Select(e => Keep(ProtoTensors.ToTensor(e.Tensor ?? throw new NotSupportedException("a sequence of non-tensors"), elementType), made))]);
                break;
            case OnnxValueKind.Map:
                var keys = Keep(ProtoTensors.ToTensor(proto.Tensor!, (TensorElementType)proto.Tensor!.DataType), made);
                value = OnnxValue.Map(keys, Keep(MapValues(proto, elementType), made));
                break;
            default:
                value = OnnxValue.Optional(proto.Contained is null ? null : ToValue(proto.Contained, elementType, made));
                break;
        }

        made.Add(value);
        return value;
    }

    /// <summary>Null when <paramref name="actual"/> matches <paramref name="expected"/>, otherwise what differs.</summary>
    public static string? Compare(string name, ProtoValue expected, OnnxValue actual)
    {
        if (expected.Kind == OnnxValueKind.Optional)
        {
            if (actual.Kind != OnnxValueKind.Optional)
            {
                return $"output '{name}' is {actual}, expected an optional";
            }

            if (expected.Contained is null || actual.Contained is null)
            {
                return (expected.Contained is null) == (actual.Contained is null) ? null : $"output '{name}' is {actual}, expected {(expected.Contained is null ? "none" : "a value")}";
            }

            return Compare(name, expected.Contained, actual.Contained);
        }

        if (expected.Kind != actual.Kind)
        {
            return $"output '{name}' is {actual}, expected a {expected.Kind}";
        }

        switch (expected.Kind)
        {
            case OnnxValueKind.Tensor:
                using (var tensor = ProtoTensors.ToTensor(expected.Tensor!, actual.Tensor!.ElementType))
                {
                    return NodeConformanceTests.Compare(name, tensor, actual.Tensor);
                }

            case OnnxValueKind.Sequence:
                if (expected.Elements.Count != actual.Elements.Count)
                {
                    return $"output '{name}' has {actual.Elements.Count} elements, expected {expected.Elements.Count}";
                }

                for (var i = 0; i < expected.Elements.Count; i++)
                {
                    if (Compare($"{name}[{i}]", expected.Elements[i], actual.Elements[i]) is { } mismatch)
                    {
                        return mismatch;
                    }
                }

                return null;
            default:
                using (var keys = ProtoTensors.ToTensor(expected.Tensor!, actual.Keys!.ElementType))
                using (var values = MapValues(expected, actual.Values!.ElementType))
                {
                    return NodeConformanceTests.Compare($"{name}.keys", keys, actual.Keys) ?? NodeConformanceTests.Compare($"{name}.values", values, actual.Values);
                }
        }
    }

    /// <summary>A MapProto keeps its values as a sequence of scalars; ORT takes them as one 1-D tensor.</summary>
    private static Tensor MapValues(ProtoValue map, TensorElementType elementType)
    {
        var parts = map.Elements.Select(e => e.Tensor ?? throw new NotSupportedException("map values that are not tensors")).ToList();
        var first = parts.FirstOrDefault();
        var raw = parts.SelectMany(p => p.Raw).ToArray();
        var joined = new TensorProtoData(string.Empty, first?.DataType ?? (int)elementType, [parts.Count], raw,
            [.. parts.SelectMany(p => p.Varints)], [.. parts.SelectMany(p => p.Floats)], [.. parts.SelectMany(p => p.Doubles)], [.. parts.SelectMany(p => p.Strings)]);
        return ProtoTensors.ToTensor(joined, elementType);
    }

    private static Tensor Keep(Tensor tensor, List<IDisposable> made)
    {
        made.Add(tensor);
        return tensor;
    }
}
