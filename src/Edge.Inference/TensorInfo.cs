using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference;

/// <summary>
/// A model input or output as people read it: its name, element type and shape. For a sequence, map
/// or optional (<see cref="Kind"/>), element type and shape are those of the tensors inside it (a
/// map's values). The runtime's own description is <see cref="Metadata"/>.
/// </summary>
/// <param name="Name">The graph's name for it.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">Its dimensions; -1 where a dimension is not fixed by the model.</param>
/// <param name="SymbolicDimensions">The symbolic name of each dimension, empty where it has none.</param>
public sealed record TensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> SymbolicDimensions)
{
    private readonly string? _typeText;

    /// <summary>A tensor, or a sequence, map or optional.</summary>
    public OnnxValueType Kind { get; init; } = OnnxValueType.ONNX_TYPE_TENSOR;

    /// <summary>The runtime's description, for what this record leaves out.</summary>
    public NodeMetadata? Metadata { get; init; }

    /// <summary>The whole type as text, e.g. <c>Float[1,4]</c>, <c>seq(Float[?])</c>, <c>map(Int64,Float[?])</c>, <c>optional(Int32[5])</c>.</summary>
    public string TypeText => _typeText ?? $"{ElementType}{ShapeText}";

    /// <summary>True when every dimension is fixed.</summary>
    public bool IsStatic => Shape.All(d => d >= 0);

    /// <summary>The shape as people write it, symbolic names in place of free dimensions: <c>[batch,3,224,224]</c>.</summary>
    public string ShapeText => FormatShape(Shape, SymbolicDimensions);

    internal string? NestedTypeText
    {
        init => _typeText = value;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {TypeText}";

    internal static string FormatShape(IReadOnlyList<long> shape, IReadOnlyList<string>? symbols = null) =>
        "[" + string.Join(",", shape.Select((d, i) => d >= 0
            ? d.ToString(CultureInfo.InvariantCulture)
            : symbols is not null && i < symbols.Count && symbols[i].Length > 0 ? symbols[i] : "?")) + "]";

    /// <summary>Describes one of the session's inputs or outputs from the runtime's metadata.</summary>
    internal static TensorInfo From(string name, NodeMetadata metadata)
    {
        var described = Describe(name, metadata);
        return described with { Metadata = metadata };
    }

    private static TensorInfo Describe(string name, NodeMetadata metadata)
    {
        switch (metadata.OnnxValueType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                return new TensorInfo(
                    name,
                    metadata.ElementDataType,
                    [.. metadata.Dimensions.Select(d => (long)d)],
                    [.. metadata.SymbolicDimensions.Select(s => s ?? string.Empty)]);
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                return Nested(name, OnnxValueType.ONNX_TYPE_SEQUENCE, metadata.AsSequenceMetadata().ElementMeta, "seq({0})");
            case OnnxValueType.ONNX_TYPE_OPTIONAL:
                return Nested(name, OnnxValueType.ONNX_TYPE_OPTIONAL, metadata.AsOptionalMetadata().ElementMeta, "optional({0})");
            case OnnxValueType.ONNX_TYPE_MAP:
                var map = metadata.AsMapMetadata();
                return Nested(name, OnnxValueType.ONNX_TYPE_MAP, map.ValueMetadata, $"map({map.KeyDataType},{{0}})");
            default:
                return new TensorInfo(name, TensorElementType.DataTypeMax, [], [])
                {
                    Kind = metadata.OnnxValueType,
                    NestedTypeText = $"ONNX type {metadata.OnnxValueType}",
                };
        }
    }

    private static TensorInfo Nested(string name, OnnxValueType kind, NodeMetadata inner, string format)
    {
        var described = Describe(name, inner);
        return described with { Kind = kind, NestedTypeText = string.Format(CultureInfo.InvariantCulture, format, described.TypeText) };
    }
}
