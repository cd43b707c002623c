using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Edge.Plugin.Waggle;

/// <summary>
/// Reads a message body from the node's <c>data.topic</c> exchange into a <see cref="Measurement"/>,
/// as pywaggle's <c>wagglemsg.load</c> reads it: <c>name</c> a string, <c>ts</c> an integer
/// (nanoseconds), <c>meta</c> an object (absent is empty), <c>val</c> as JSON typed it. The routing key
/// plays no part: the node routes by the name in the body, and pywaggle reads only the body.
/// </summary>
internal static class WaggleMessageReader
{
    /// <summary>Decodes <paramref name="body"/>, or says in <paramref name="reason"/> why it is not a measurement.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> body, [NotNullWhen(true)] out Measurement? measurement, [NotNullWhen(false)] out string? reason)
    {
        measurement = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            reason = $"not JSON ({e.Message})";
            return false;
        }

        using (document)
        {
            reason = Read(document.RootElement, out measurement);
            return reason is null;
        }
    }

    private static string? Read(JsonElement root, out Measurement? measurement)
    {
        measurement = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"the body is a JSON {Describe(root.ValueKind)}, not an object";
        }

        if (!root.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            return "name is missing or not a string";
        }

        if (!root.TryGetProperty("ts", out var ts) || ts.ValueKind != JsonValueKind.Number || !ts.TryGetInt64(out var timestampNs))
        {
            return "ts is missing or not an integer (nanoseconds since the epoch)";
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("meta", out var metaElement))
        {
            if (metaElement.ValueKind != JsonValueKind.Object)
            {
                return $"meta is a JSON {Describe(metaElement.ValueKind)}, not an object";
            }

            foreach (var entry in metaElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    return $"meta.{entry.Name} is a JSON {Describe(entry.Value.ValueKind)}; meta values are strings";
                }

                meta[entry.Name] = entry.Value.GetString()!;
            }
        }

        if (root.TryGetProperty("enc", out var enc) && enc.ValueKind == JsonValueKind.String && enc.ValueEquals("b64"))
        {
            return "val is binary (enc b64), which a measurement cannot hold";
        }

        if (!root.TryGetProperty("val", out var val))
        {
            return "val is missing";
        }

        if (ReadValue(val, out var value) is { } badValue)
        {
            return badValue;
        }

        try
        {
            measurement = new Measurement(nameElement.GetString()!, value, timestampNs, meta);
            return null;
        }
        catch (ArgumentException e)
        {
            // A name or timestamp a measurement refuses: Waggle's rules, checked on the way in as on the way out.
            return e.Message;
        }
    }

    private static string? ReadValue(JsonElement val, out MeasurementValue value)
    {
        value = default;
        switch (val.ValueKind)
        {
            case JsonValueKind.String:
                value = val.GetString()!;
                return null;
            case JsonValueKind.Number when val.TryGetInt64(out var whole):
                value = whole;
                return null;
            case JsonValueKind.Number:
                // Python keeps 10**20 an int; a measurement has no such int, and a float would change its type.
                var raw = val.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0)
                {
                    return $"val {raw} is an integer beyond 64 bits";
                }

                if (!val.TryGetDouble(out var real) || !double.IsFinite(real))
                {
                    return $"val {raw} is not a finite 64-bit float";
                }

                value = real;
                return null;
            default:
                return $"val is a JSON {Describe(val.ValueKind)}; Waggle values are int, float or string";
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
