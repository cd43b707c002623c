using System.Text.RegularExpressions;

namespace Edge.Plugin.Hosting.Secrets;

/// <summary>
/// Makes a URL safe to log or put in an error: a plugin runs on a node nobody can reach, so its logs
/// are shipped and read by others, and a camera password or a presigned link must not be among them.
/// </summary>
internal static partial class Redaction
{
    private const string Hidden = "***";

    // Query parameters that carry a credential: presigned S3/GCS/Azure links, OAuth and API tokens.
    private static readonly string[] SecretParameters =
    [
        "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential",
        "signature", "sig", "se", "token", "access_token", "id_token", "refresh_token", "api_key", "apikey", "key",
        "password", "passwd", "pwd", "secret", "client_secret", "auth",
    ];

    // Words that mark a configuration key as holding a secret: Password, SecretKey, SessionToken, AccessKey, ApiKey.
    private static readonly string[] SecretKeyNames = ["password", "passwd", "secret", "token", "accesskey", "apikey", "credential"];

    /// <summary>The URL with its user info and any credential-bearing query values replaced by <c>***</c>.</summary>
    public static string Url(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);

        // A relative Uri is what the binder makes of "http://user:pass@[bad": the text still holds the password.
        return !url.IsAbsoluteUri ? Text(url.OriginalString) : TryRedact(url, out var redacted) ? redacted : url.ToString();
    }

    /// <summary>The text redacted as a URL when it is one; otherwise exactly as given.</summary>
    public static string Url(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && !url.IsFile && TryRedact(url, out var redacted) ? redacted : text;

    /// <summary>
    /// A configuration value as an error may quote it: hidden whole when its key names a secret
    /// (<c>Publishing:Mqtt:Password</c>, <c>Storage:S3:SecretKey</c>), otherwise with its URLs redacted.
    /// </summary>
    public static string Setting(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var name = key[(key.LastIndexOfAny([':', '_']) + 1)..];
        return SecretKeyNames.Any(s => name.Contains(s, StringComparison.OrdinalIgnoreCase)) ? Hidden : Text(value);
    }

    /// <summary>
    /// Free text with every URL in it redacted: messages of other programs and libraries (ffmpeg's
    /// stderr, a client library's exception) quote the URL they were given, credentials and all.
    /// </summary>
    public static string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Contains("://", StringComparison.Ordinal) ? UrlInText().Replace(text, m => Token(m.Value)) : text;
    }

    private static string Token(string token)
    {
        var redacted = Url(token);
        if (!ReferenceEquals(redacted, token) || !token.Contains('@', StringComparison.Ordinal))
        {
            return redacted;
        }

        // Not parseable as a URL (a truncated quote, say), yet it may still carry user info before the host.
        var start = token.IndexOf("://", StringComparison.Ordinal) + 3;
        var at = token.IndexOf('@', start);
        var slash = token.IndexOf('/', start);
        return slash >= 0 && slash < at ? token : token[..start] + Hidden + token[at..];
    }

    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'""<>|]+", RegexOptions.CultureInvariant)]
    private static partial Regex UrlInText();

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
