namespace Edge.Plugin.Hosting.Secrets;

/// <summary>
/// Makes a URL safe to log or put in an error: a plugin runs on a node nobody can reach, so its logs
/// are shipped and read by others, and a camera password or a presigned link must not be among them.
/// </summary>
internal static class Redaction
{
    private const string Hidden = "***";

    // Query parameters that carry a credential: presigned S3/GCS/Azure links, OAuth and API tokens.
    private static readonly string[] SecretParameters =
    [
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential",
        "signature", "sig", "se", "token", "access_token", "id_token", "refresh_token", "api_key", "apikey", "key",
        "password", "passwd", "pwd", "secret", "client_secret", "auth",
    ];

    /// <summary>The URL with its user info and any credential-bearing query values replaced by <c>***</c>.</summary>
    public static string Url(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return TryRedact(url, out var redacted) ? redacted : url.ToString();
    }

    /// <summary>The text redacted as a URL when it is one; otherwise exactly as given.</summary>
    public static string Url(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && !url.IsFile && TryRedact(url, out var redacted) ? redacted : text;

    private static bool TryRedact(Uri url, out string redacted)
    {
        redacted = string.Empty;
        if (!url.IsAbsoluteUri)
        {
            return false;
        }

        var hasUser = !string.IsNullOrEmpty(url.UserInfo);
        var query = url.Query.Length > 1 ? url.Query[1..] : string.Empty;
        var safeQuery = RedactQuery(query);
        if (!hasUser && string.Equals(safeQuery, query, StringComparison.Ordinal))
        {
            return false;
        }

        var builder = new UriBuilder(url) { Query = safeQuery };
        if (hasUser)
        {
            builder.UserName = Hidden;
            builder.Password = null;
        }

        redacted = builder.Uri.ToString();
        return true;
    }

    private static string RedactQuery(string query)
    {
        var parts = query.Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var equals = parts[i].IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && SecretParameters.Contains(Uri.UnescapeDataString(parts[i][..equals]), StringComparer.OrdinalIgnoreCase))
            {
                parts[i] = parts[i][..(equals + 1)] + Hidden;
            }
        }

        return string.Join('&', parts);
    }
}
