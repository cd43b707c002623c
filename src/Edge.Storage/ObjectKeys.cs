namespace Edge.Storage;

/// <summary>
/// Checks object keys and file names that come from references, listings and archives before any of
/// them becomes part of a local path or a request, so a hostile name cannot escape the cache.
/// </summary>
internal static class ObjectKeys
{
    /// <summary>Throws when a key is empty, absolute, holds a <c>.</c> or <c>..</c> segment, a backslash or a control character.</summary>
    /// <exception cref="FormatException">The key is unsafe; the message names it and why.</exception>
    public static string Validate(string key, string what)
    {
        var problem = Problem(key);
        return problem is null ? key : throw new FormatException($"{what} '{Printable(key)}' is refused: {problem}.");
    }

    public static string? Problem(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "it is empty";
        }

        if (key.Length > 1024)
        {
            return "it is longer than 1024 characters";
        }

        if (key[0] == '/' || (key.Length > 1 && key[1] == ':'))
        {
            return "it is an absolute path";
        }

        if (key.Contains('\\', StringComparison.Ordinal))
        {
            return "it contains a backslash";
        }

        if (key.Any(char.IsControl))
        {
            return "it contains a control character";
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment is "." or "..")
            {
                return $"it contains a '{segment}' segment";
            }
        }

        return null;
    }

    public static bool IsSafeFileName(string name) =>
        Problem(name) is null && !name.Contains('/', StringComparison.Ordinal);

    private static string Printable(string key) =>
        string.Concat(key.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
