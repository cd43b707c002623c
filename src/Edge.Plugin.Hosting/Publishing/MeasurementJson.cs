using System.Globalization;
using System.Text.Json;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>
/// A message on Waggle's wire: a measurement, or the reserved <c>upload</c> record that a
/// <see cref="Measurement"/> refuses to be. Construct it from a measurement or through <see cref="FileUploads"/>.
/// </summary>
internal readonly record struct WaggleMessage(string Name, MeasurementValue Value, long TimestampNs, IReadOnlyDictionary<string, string> Meta, string Scope)
{
    public static WaggleMessage From(Measurement measurement) =>
        new(measurement.Name, measurement.Value, measurement.TimestampNs, measurement.Meta, measurement.Scope);
}

/// <summary>Writes measurements as JSON by hand, so it stays trim- and AOT-safe.</summary>
internal static class MeasurementJson
{
    /// <summary>
    /// pywaggle's run-log record: keys sorted (meta, name, timestamp, value), the timestamp as
    /// RFC 3339 UTC with nanoseconds, as Waggle's data API prints it.
    /// </summary>
    public static void WriteRunLogRecord(Utf8JsonWriter writer, Measurement measurement) =>
        WriteRunLogRecord(writer, WaggleMessage.From(measurement));

    public static void WriteRunLogRecord(Utf8JsonWriter writer, in WaggleMessage message)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("meta");
        WriteMeta(writer, message.Meta);
        writer.WriteString("name", message.Name);
        writer.WriteString("timestamp", FormatTimestamp(message.TimestampNs));
        writer.WritePropertyName("value");
        WriteValue(writer, message.Value);
        writer.WriteEndObject();
    }

    /// <summary>Waggle's wire body: <c>{"name","ts","meta","val"}</c> with <c>ts</c> in integer nanoseconds.</summary>
    public static void WriteWaggleMessage(Utf8JsonWriter writer, Measurement measurement) =>
        WriteWaggleMessage(writer, WaggleMessage.From(measurement));

    public static void WriteWaggleMessage(Utf8JsonWriter writer, in WaggleMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("name", message.Name);
        writer.WriteNumber("ts", message.TimestampNs);
        writer.WritePropertyName("meta");
        WriteMeta(writer, message.Meta);
        writer.WritePropertyName("val");
        WriteValue(writer, message.Value);
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
                WriteReal(writer, value);
                break;
            default:
                writer.WriteStringValue(value.AsString);
                break;
        }
    }

    private static void WriteReal(Utf8JsonWriter writer, MeasurementValue value)
    {
        var number = value.AsDouble;
        if (!double.IsFinite(number))
        {
            throw new ArgumentException($"The value {number.ToString(CultureInfo.InvariantCulture)} cannot be published: JSON, and so Waggle, has no NaN or infinity. Publish a finite number, or a string.", nameof(value));
        }

        // A whole float must stay a float on the far side: Python reads 2 as int and 2.0 as float,
        // and Waggle stores the type it reads.
        var text = value.ToString();
        if (text.AsSpan().IndexOfAny(".Ee") < 0)
        {
            text += ".0";
        }

        writer.WriteRawValue(text, skipInputValidation: true);
    }
}
