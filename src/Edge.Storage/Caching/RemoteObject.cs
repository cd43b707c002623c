using Edge.Plugin.Hosting.Secrets;

namespace Edge.Storage.Caching;

/// <summary>
/// What a remote reference names right now: the concrete object, the version the store gives it
/// (ETag or Last-Modified), its size and, when the store publishes one, its SHA-256.
/// </summary>
internal sealed class RemoteObject(string location, string version, long? length, string? sha256, string fileName) : IDisposable
{
    public string Location { get; } = location;

    /// <summary>The location as logs and errors show it: a presigned or credentialed URL would leak otherwise.</summary>
    public string Shown => Redaction.Url(Location);

    public string Version { get; } = version;

    public long? Length { get; } = length;

    /// <summary>A SHA-256 the store states for the object (S3 metadata <c>sha256</c>), checked as well as any pin.</summary>
    public string? Sha256 { get; } = sha256;

    public string FileName { get; } = fileName;

    /// <summary>A body already open from offset 0 (an HTTP probe that returned 200), used instead of a second request.</summary>
    public Stream? PrefetchedBody { get; set; }

    public void Dispose() => PrefetchedBody?.Dispose();
}

/// <summary>An open body and the offset its first byte has; a store that ignores a range request answers from 0.</summary>
internal readonly record struct RemoteBody(Stream Stream, long Offset);
