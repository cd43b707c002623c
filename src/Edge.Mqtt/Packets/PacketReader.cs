using System.Buffers.Binary;
using System.Text;

namespace Edge.Mqtt;

/// <summary>Reads MQTT data types from one packet's body; every shortfall becomes a "truncated" error naming the field.</summary>
internal ref struct PacketReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _body;
    private readonly string _packet;

    public PacketReader(ReadOnlySpan<byte> body, string packet)
    {
        _body = body;
        _packet = packet;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _body.Length - Position;

    public readonly string Packet => _packet;

    public byte ReadByte(string field)
    {
        Need(1, field);
        return _body[Position++];
    }

    public ushort ReadUInt16(string field)
    {
        Need(2, field);
        var value = BinaryPrimitives.ReadUInt16BigEndian(_body[Position..]);
        Position += 2;
        return value;
    }

    public uint ReadUInt32(string field)
    {
        Need(4, field);
        var value = BinaryPrimitives.ReadUInt32BigEndian(_body[Position..]);
        Position += 4;
        return value;
    }

    public int ReadVariableInteger(string field)
    {
        var value = 0;
        for (var i = 0; i < 4; i++)
        {
            var b = ReadByte(field);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw Malformed($"{field} is a variable byte integer longer than 4 bytes");
    }

    public string ReadString(string field)
    {
        var bytes = ReadBinarySpan(field);
        try
        {
            var text = StrictUtf8.GetString(bytes);
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                throw Malformed($"{field} contains U+0000, which MQTT forbids in strings");
            }

            return text;
        }
        catch (DecoderFallbackException e)
        {
            throw new MqttProtocolException($"Malformed {_packet}: {field} is not valid UTF-8.", e);
        }
    }

    public ReadOnlySpan<byte> ReadBinarySpan(string field)
    {
        var length = ReadUInt16(field + " length");
        return ReadBytes(length, field);
    }

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        Need(count, field);
        var span = _body.Slice(Position, count);
        Position += count;
        return span;
    }

    public ReadOnlySpan<byte> ReadToEnd()
    {
        var rest = _body[Position..];
        Position = _body.Length;
        return rest;
    }

    public readonly MqttProtocolException Malformed(string problem) => new($"Malformed {_packet}: {problem}.");

    private readonly void Need(int count, string field)
    {
        if (Remaining < count)
        {
            throw new MqttProtocolException($"Malformed {_packet}: truncated at byte {Position} of {_body.Length}; {field} needs {count} byte(s) but {Remaining} remain.");
        }
    }
}
