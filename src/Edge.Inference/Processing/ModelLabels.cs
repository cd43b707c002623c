using System.Text;
using System.Text.Json;

namespace Edge.Inference;

/// <summary>Reads class labels from a model's metadata.</summary>
internal static class ModelLabels
{
    public const string Key = "labels";

    /// <summary>
    /// Accepts a JSON array (<c>["cat","dog"]</c>), which allows commas inside labels as ImageNet's
    /// have, or else one label per line, or else a comma-separated list.
    /// </summary>
    public static IReadOnlyList<string> Parse(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(Key, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var trimmed = text.Trim();
        if (trimmed.StartsWith('['))
        {
            return ParseJsonArray(trimmed);
        }

        var separator = trimmed.Contains('\n', StringComparison.Ordinal) ? '\n' : ',';
        return [.. trimmed.Split(separator).Select(l => l.Trim())];
    }

    private static string[] ParseJsonArray(string json)
    {
        var labels = new List<string>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        try
        {
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                labels.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan));
            }
        }
        catch (JsonException e)
        {
            throw new InferenceException($"The model's '{Key}' metadata is not a valid JSON array: {e.Message}");
        }

        return [.. labels];
    }
}
