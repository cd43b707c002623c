using Edge.Plugin.Hosting.Secrets;

namespace Edge.Storage.S3;

/// <summary>
/// An <c>s3://bucket/key</c> reference. One key segment may be <c>latest</c>: it stands for the
/// newest timestamped folder at that point (<c>s3://models/face/latest/model.data</c>), the layout
/// in which a training pipeline uploads each version to a folder named after its time.
/// </summary>
internal sealed record S3Location(string Bucket, string Key)
{
    public const string Latest = "latest";

    /// <summary>The folder prefix in front of <c>latest</c> ("" for the bucket root), or null when the key names one object.</summary>
    public string? LatestPrefix { get; init; }

    /// <summary>What follows <c>latest/</c>: the file inside the version folder, or "" for "the folder's only object".</summary>
    public string LatestRest { get; init; } = "";

    /// <exception cref="FormatException">The URI is not <c>s3://bucket/key</c>, or the key is unsafe.</exception>
    public static S3Location Parse(string location)
    {
        const string scheme = "s3://";
        var shown = Redaction.Url(location);
        if (!location.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"'{shown}' is not an s3:// reference.");
        }

        var rest = location[scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            throw new FormatException($"'{shown}' names no object: write s3://bucket/key, or s3://bucket/prefix/latest for the newest version folder.");
        }

        var bucket = rest[..slash];
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            throw new FormatException($"'{shown}': bucket '{(bucket.Contains('@', StringComparison.Ordinal) ? "***@" + bucket[(bucket.LastIndexOf('@') + 1)..] : bucket)}' is not a valid bucket name (3-63 characters: a-z, 0-9, '-', '.').");
        }

        var key = rest[(slash + 1)..];
        var folderReference = key.EndsWith('/');
        ObjectKeys.Validate(key.TrimEnd('/'), $"Object key in '{shown}'");
        var segments = key.TrimEnd('/').Split('/');
        var latest = Array.IndexOf(segments, Latest);
        if (latest < 0)
        {
            return folderReference
                ? throw new FormatException($"'{shown}' names a folder; name the object, or end the folder with /{Latest} for its newest version.")
                : new S3Location(bucket, key);
        }

        if (Array.LastIndexOf(segments, Latest) != latest)
        {
            throw new FormatException($"'{shown}' has more than one '{Latest}' segment.");
        }

        return new S3Location(bucket, key.TrimEnd('/'))
        {
            LatestPrefix = latest == 0 ? "" : string.Join('/', segments[..latest]) + "/",
            LatestRest = string.Join('/', segments[(latest + 1)..]),
        };
    }

    public string Uri(string key) => $"s3://{Bucket}/{key}";
}
