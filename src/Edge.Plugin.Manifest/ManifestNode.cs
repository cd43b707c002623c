namespace Edge.Plugin.Manifest;

/// <summary>The kinds of value a manifest holds, whichever of JSON or YAML it was written in.</summary>
internal enum ManifestNodeKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>
/// One value of a parsed manifest. JSON and YAML both read into this, so the ECR rules are written once.
/// Scalars keep their text; <see cref="Quoted"/> says whether YAML quoted it (quoted text is never a number).
/// </summary>
internal sealed class ManifestNode
{
    private ManifestNode(ManifestNodeKind kind, string? text, bool quoted, List<KeyValuePair<string, ManifestNode>>? members, List<ManifestNode>? items)
    {
        Kind = kind;
        Text = text;
        Quoted = quoted;
        Members = members ?? [];
        Items = items ?? [];
    }

    public ManifestNodeKind Kind { get; }

    public string? Text { get; }

    public bool Quoted { get; }

    public List<KeyValuePair<string, ManifestNode>> Members { get; }

    public List<ManifestNode> Items { get; }

    public static ManifestNode Object() => new(ManifestNodeKind.Object, null, false, [], null);

    public static ManifestNode Array() => new(ManifestNodeKind.Array, null, false, null, []);

    public static ManifestNode Scalar(ManifestNodeKind kind, string text, bool quoted = false) => new(kind, text, quoted, null, null);

    public ManifestNode? this[string key]
    {
        get
        {
            foreach (var (name, value) in Members)
            {
                if (string.Equals(name, key, StringComparison.Ordinal))
                {
                    return value;
                }
            }

            return null;
        }
    }

    public string Describe() => Kind switch
    {
        ManifestNodeKind.Object => "an object",
        ManifestNodeKind.Array => "a list",
        ManifestNodeKind.String => "a string",
        ManifestNodeKind.Number => "a number",
        ManifestNodeKind.Boolean => "a boolean",
        _ => "null",
    };
}
