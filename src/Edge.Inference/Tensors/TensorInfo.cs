using System.Globalization;

namespace Edge.Inference;

/// <summary>
/// A model input or output: its name, element type and shape. For a sequence, map or optional
/// (<see cref="Kind"/>), element type and shape are those of the tensors inside it (a map's values).
/// </summary>
/// <param name="Name">The graph's name for it.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">Its dimensions; -1 where a dimension is not fixed by the model.</param>
/// <param name="SymbolicDimensions">The symbolic name of each dimension, empty where it has none.</param>
public sealed record TensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> SymbolicDimensions)
{
    /// <summary>A tensor, or a sequence, map or optional, which run through <see cref="OnnxValue"/>.</summary>
    public OnnxValueKind Kind { get; init; } = OnnxValueKind.Tensor;

    /// <summary>The whole type as text, e.g. <c>Float[1,4]</c>, <c>seq(Float[?])</c>, <c>map(Int64,Float[?])</c>, <c>optional(Int32[5])</c>.</summary>
    public string TypeText => _typeText ?? $"{ElementType}{ShapeText}";

    internal string? NestedTypeText
    {
        init => _typeText = value;
    }

    private readonly string? _typeText;

    /// <summary>True when every dimension is fixed.</summary>
    public bool IsStatic => Shape.All(d => d >= 0);

    /// <summary>The shape as people write it, symbolic names in place of free dimensions: <c>[batch,3,224,224]</c>.</summary>
    public string ShapeText => FormatShape(Shape, SymbolicDimensions);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {TypeText}";

    internal static string FormatShape(IReadOnlyList<long> shape, IReadOnlyList<string>? symbols = null) =>
        "[" + string.Join(",", shape.Select((d, i) => d >= 0
            ? d.ToString(CultureInfo.InvariantCulture)
            : symbols is not null && i < symbols.Count && symbols[i].Length > 0 ? symbols[i] : "?")) + "]";
}

/// <summary>What the model file says about itself.</summary>
/// <param name="ProducerName">The tool that wrote the model.</param>
/// <param name="GraphName">The graph's name.</param>
/// <param name="Domain">The model's domain.</param>
/// <param name="Description">The model's doc string.</param>
/// <param name="Version">The model version number.</param>
/// <param name="CustomMetadata">The <c>metadata_props</c> map.</param>
public sealed record ModelMetadata(string ProducerName, string GraphName, string Domain, string Description, long Version, IReadOnlyDictionary<string, string> CustomMetadata);
