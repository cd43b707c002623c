using System.Text;
using System.Text.Json;

namespace Edge.Plugin.Manifest;

/// <summary>Reads sage.json into <see cref="ManifestNode"/>s with <see cref="Utf8JsonReader"/>: no reflection, AOT-safe.</summary>
internal static class ManifestJsonReader
{
    /// <exception cref="JsonException">The text is not JSON; the message carries the line and position.</exception>
    public static ManifestNode Read(ReadOnlySpan<byte> utf8)
    {
        // sage.json files written on Windows often start with a BOM, which the reader refuses.
        if (utf8.StartsWith(Encoding.UTF8.Preamble))
        {
            utf8 = utf8[Encoding.UTF8.Preamble.Length..];
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false, MaxDepth = 64 });
        if (!reader.Read())
        {
            throw new JsonException("the file is empty");
        }

        var root = ReadValue(ref reader);
        if (reader.Read())
        {
            throw new JsonException($"unexpected content after the top-level value at byte {reader.TokenStartIndex}");
        }

        return root;
    }

    private static ManifestNode ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = ManifestNode.Object();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = reader.GetString()!;
                    reader.Read();
                    obj.Members.Add(new(key, ReadValue(ref reader)));
                }

                return obj;
            case JsonTokenType.StartArray:
                var array = ManifestNode.Array();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    array.Items.Add(ReadValue(ref reader));
                }

                return array;
            case JsonTokenType.String:
                return ManifestNode.Scalar(ManifestNodeKind.String, reader.GetString()!, quoted: true);
            case JsonTokenType.Number:
                return ManifestNode.Scalar(ManifestNodeKind.Number, Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.True:
            case JsonTokenType.False:
                return ManifestNode.Scalar(ManifestNodeKind.Boolean, reader.TokenType == JsonTokenType.True ? "true" : "false");
            default:
                return ManifestNode.Scalar(ManifestNodeKind.Null, "null");
        }
    }
}
