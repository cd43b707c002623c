using System.Text.Json;

namespace Edge.Storage.Caching;

/// <summary>
/// What a reference last resolved to and was verified as: the concrete object (a key inside a
/// <c>latest</c> folder, a URL), the version the store gave it (ETag, Last-Modified) and its SHA-256.
/// </summary>
internal sealed record CacheEntry(string Reference, string Location, string Version, string Sha256, long Size, string FileName, DateTimeOffset VerifiedAt)
{
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("reference", Reference);
            json.WriteString("location", Location);
            json.WriteString("version", Version);
            json.WriteString("sha256", Sha256);
            json.WriteNumber("size", Size);
            json.WriteString("fileName", FileName);
            json.WriteString("verifiedAt", VerifiedAt);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads an entry; a damaged file reads as no entry, since the cache can always fetch again.</summary>
    public static CacheEntry? FromJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var entry = new CacheEntry(
                root.GetProperty("reference").GetString()!,
                root.GetProperty("location").GetString()!,
                root.GetProperty("version").GetString()!,
                root.GetProperty("sha256").GetString()!,
                root.GetProperty("size").GetInt64(),
                root.GetProperty("fileName").GetString()!,
                root.GetProperty("verifiedAt").GetDateTimeOffset());
            return IsSha256(entry.Sha256) && ObjectKeys.IsSafeFileName(entry.FileName) ? entry : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public static bool IsSha256(string text) => text.Length == 64 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
