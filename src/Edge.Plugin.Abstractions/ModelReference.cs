namespace Edge.Plugin;

/// <summary>
/// Where a model comes from: a local path, a <c>file://</c> URI, or (with Edge.Storage) an
/// object-store or HTTP URI. An optional pinned SHA-256 follows a <c>#sha256=</c> fragment.
/// </summary>
public sealed record ModelReference
{
    private ModelReference(string original, string location, string? sha256)
    {
        Original = original;
        Location = location;
        Sha256 = sha256;
    }

    /// <summary>The reference as written.</summary>
    public string Original { get; }

    /// <summary>The reference without its pin.</summary>
    public string Location { get; }

    /// <summary>The pinned lower-case hex SHA-256, if one was given.</summary>
    public string? Sha256 { get; }

    /// <summary>The URI scheme in lower case (<c>file</c> for plain paths).</summary>
    public string Scheme
    {
        get
        {
            var colon = Location.IndexOf("://", StringComparison.Ordinal);
            return colon > 0 ? Location[..colon].ToLowerInvariant() : "file";
        }
    }

    /// <summary>True for plain paths and <c>file://</c> URIs.</summary>
    public bool IsLocal => Scheme == "file";

    /// <summary>The local path, for local references.</summary>
    /// <exception cref="InvalidOperationException">The reference is not local.</exception>
    public string LocalPath => !IsLocal
        ? throw new InvalidOperationException($"Model reference '{Location}' is not a local file.")
        : Location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? Uri.UnescapeDataString(Location["file://".Length..]) : Location;

    /// <summary>Parses a reference.</summary>
    /// <exception cref="FormatException">The reference is empty or its pin is not a SHA-256.</exception>
    public static ModelReference Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("Model reference is empty: give a path or URI, for example -model model.onnx.");
        }

        text = text.Trim();
        var pin = text.LastIndexOf("#sha256=", StringComparison.OrdinalIgnoreCase);
        if (pin < 0)
        {
            return Checked(new ModelReference(text, text, null));
        }

        var hash = text[(pin + "#sha256=".Length)..].ToLowerInvariant();
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            // The reference itself stays out of the message: it may be a URL carrying a password or a signature.
            throw new FormatException($"Model reference pins '{hash}' after #sha256=, which is not a 64-digit hex SHA-256.");
        }

        return Checked(new ModelReference(text, text[..pin], hash));
    }

    /// <summary>A remote reference must parse as a URI here, or its fetch fails later with a bare "Invalid URI".</summary>
    private static ModelReference Checked(ModelReference reference)
    {
        if (reference.IsLocal)
        {
            return reference;
        }

        try
        {
            _ = new Uri(reference.Location, UriKind.Absolute);
            return reference;
        }
        catch (UriFormatException e)
        {
            // Only the scheme and the last segment are shown: the rest may hold user info or a signature.
            var path = reference.Location.Split('?', '#')[0];
            var name = path[(path.LastIndexOf('/') + 1)..];
            throw new FormatException($"Model reference {reference.Scheme}://.../{name} is not a valid URI ({e.Message}); check its host (an IPv6 address goes in brackets) and escape spaces as %20.", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Original;
}
