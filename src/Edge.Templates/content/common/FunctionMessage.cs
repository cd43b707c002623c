using System.Text;
using System.Text.Json;

namespace EdgePluginNamespace;

/// <summary>
/// Turns an Abaco MSG into plugin options. MSG is either a bare input (a path or URL) or a JSON-like
/// object such as <c>{'input': 'https://example.org/cat.jpg'}</c>, whose keys become <c>-key value</c>.
/// </summary>
internal static class FunctionMessage
{
    public static bool TryParse(string? message, out string[] args, out string? problem)
    {
        args = [];
        problem = null;
        message = message?.Trim();
        if (string.IsNullOrEmpty(message))
        {
            problem = "MSG is not set: give the input as MSG='image.jpg' or MSG=\"{'input': 'image.jpg'}\"";
            return false;
        }

        if (!message.StartsWith('{'))
        {
            args = ["-input", message];
            return true;
        }

        // Abaco's examples quote with ' as Python does; JSON wants ".
        var json = Encoding.UTF8.GetBytes(message.Replace('\'', '"'));
        var values = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                reader.Read();
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    problem = $"MSG key '{key}' must have a single value, not a list or object";
                    return false;
                }

                values.Add("-" + key);
                values.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan));
            }
        }
        catch (JsonException e)
        {
            problem = $"MSG is neither an input nor a {{'key': 'value'}} object: {e.Message}";
            return false;
        }

        args = [.. values];
        return true;
    }
}
