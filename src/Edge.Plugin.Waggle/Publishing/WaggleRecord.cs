using System.Buffers;
using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Publishing;

namespace Edge.Plugin.Waggle;

/// <summary>
/// A Waggle message as the spool keeps it: <c>scope length u8 | scope | JSON body</c>, so the routing
/// key travels with the body through a crash.
/// </summary>
internal static class WaggleRecord
{
    public static byte[] Encode(in WaggleMessage message)
    {
        var scope = Encoding.UTF8.GetBytes(message.Scope);
        if (scope.Length is 0 or > 255)
        {
            throw new ArgumentException($"Scope '{message.Scope}' must be 1 to 255 bytes: it is the AMQP routing key.", nameof(message));
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.GetSpan(1)[0] = (byte)scope.Length;
        buffer.Advance(1);
        buffer.Write(scope);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MeasurementJson.WriteWaggleMessage(writer, message);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static (string Scope, ReadOnlyMemory<byte> Body) Decode(ReadOnlyMemory<byte> record)
    {
        var span = record.Span;
        if (span.Length < 2 || span[0] == 0 || span.Length < 1 + span[0])
        {
            throw new InvalidDataException($"A spooled Waggle record of {span.Length} bytes is malformed.");
        }

        return (Encoding.UTF8.GetString(span.Slice(1, span[0])), record[(1 + span[0])..]);
    }
}
