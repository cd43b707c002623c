using System.Globalization;
using System.Text.Json;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>Writes measurements as JSON by hand, so it stays trim- and AOT-safe.</summary>
internal static class MeasurementJson
{
    /// <summary>
    /// pywaggle's run-log record: keys sorted (meta, name, timestamp, value), the timestamp as
    /// RFC 3339 UTC with nanoseconds, as Waggle's data API prints it.
    /// </summary>
    public static void WriteRunLogRecord(Utf8JsonWriter writer, Measurement measurement)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("meta");
        WriteMeta(writer, measurement.Meta);
        writer.WriteString("name", measurement.Name);
        writer.WriteString("timestamp", FormatTimestamp(measurement.TimestampNs));
        writer.WritePropertyName("value");
        WriteValue(writer, measurement.Value);
        writer.WriteEndObject();
    }

    /// <summary>Waggle's wire body: <c>{"name","ts","meta","val"}</c> with <c>ts</c> in integer nanoseconds.</summary>
    public static void WriteWaggleMessage(Utf8JsonWriter writer, Measurement measurement)
    {
        writer.WriteStartObject();
        writer.WriteString("name", measurement.Name);
        writer.WriteNumber("ts", measurement.TimestampNs);
        writer.WritePropertyName("meta");
        WriteMeta(writer, measurement.Meta);
        writer.WritePropertyName("val");
        WriteValue(writer, measurement.Value);
        writer.WriteEndObject();
    }

    public static string FormatTimestamp(long timestampNs)
    {
        var seconds = Math.DivRem(timestampNs, 1_000_000_000L, out var nanos);
        var time = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + nanos.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    private static void WriteMeta(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> meta)
    {
        writer.WriteStartObject();
        foreach (var key in meta.Keys.Order(StringComparer.Ordinal))
        {
            writer.WriteString(key, meta[key]);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, MeasurementValue value)
    {
        switch (value.Kind)
        {
            case MeasurementKind.WholeNumber:
                writer.WriteNumberValue(value.AsInt64);
                break;
            case MeasurementKind.RealNumber:
                writer.WriteNumberValue(value.AsDouble);
                break;
            default:
                writer.WriteStringValue(value.AsString);
                break;
        }
    }
}
