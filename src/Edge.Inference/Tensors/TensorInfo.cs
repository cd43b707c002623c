using System.Globalization;

namespace Edge.Inference;

/// <summary>A model input or output: its name, element type and shape.</summary>
/// <param name="Name">The graph's name for it.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">Its dimensions; -1 where a dimension is not fixed by the model.</param>
/// <param name="SymbolicDimensions">The symbolic name of each dimension, empty where it has none.</param>
public sealed record TensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> SymbolicDimensions)
{
    /// <summary>True when every dimension is fixed.</summary>
    public bool IsStatic => Shape.All(d => d >= 0);

    /// <summary>The shape as people write it, symbolic names in place of free dimensions: <c>[batch,3,224,224]</c>.</summary>
    public string ShapeText => FormatShape(Shape, SymbolicDimensions);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {ElementType}{ShapeText}";

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
