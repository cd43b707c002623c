using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Edge.Mqtt;

/// <summary>
/// A growable byte buffer from the shared pool that MQTT packets are encoded into, several after
/// one another, so that a batch goes out in one socket write.
/// </summary>
internal sealed class PacketWriter : IDisposable
{
    /// <summary>The largest remaining length a variable byte integer can express (MQTT 1.5.5).</summary>
    public const int MaxRemainingLength = 268_435_455;

    // A length prefix is written after its body, so that much room is reserved in front of it.
    private const int LengthReserve = 4;

    private byte[] _buffer;

    public PacketWriter(int initialCapacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Sets the DUP flag of the packet that starts at <paramref name="offset"/>, for a retransmission.</summary>
    public void SetDuplicateFlag(int offset = 0) => _buffer[offset] |= 0x08;

    /// <summary>Drops what was written after <paramref name="length"/>, undoing a failed encode.</summary>
    public void Truncate(int length) => Length = length;

    /// <summary>Starts a packet with its first byte (type and flags); returns a mark for <see cref="EndPacket"/>.</summary>
    public int BeginPacket(byte firstByte)
    {
        var start = Length;
        WriteByte(firstByte);
        Reserve(LengthReserve);
        return start;
    }

    /// <summary>Writes the remaining length of the packet begun at <paramref name="mark"/>.</summary>
    public void EndPacket(int mark) => CloseLength(mark + 1, "remaining length");

    /// <summary>Starts an MQTT 5 property block.</summary>
    public int BeginProperties()
    {
        var start = Length;
        Reserve(LengthReserve);
        return start;
    }

    public void EndProperties(int mark) => CloseLength(mark, "property length");

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[Length++] = value;
    }

    public void WriteUInt16(int value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(Length), checked((ushort)value));
        Length += 2;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(Length), value);
        Length += 4;
    }

    public void WriteVariableInteger(int value)
    {
        Ensure(4);
        Length += EncodeVariableInteger(value, _buffer.AsSpan(Length));
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>A UTF-8 string with its two-byte length (MQTT 1.5.4).</summary>
    public void WriteString(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Ensure(2 + max);
        var count = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(Length + 2));
        if (count > ushort.MaxValue)
        {
            throw new ArgumentException($"'{value[..Math.Min(value.Length, 40)]}...' is {count} bytes in UTF-8; MQTT strings hold at most 65535.", nameof(value));
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(Length), (ushort)count);
        Length += 2 + count;
    }

    /// <summary>Binary data with its two-byte length (MQTT 1.5.6).</summary>
    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"Binary data of {value.Length} bytes is longer than the 65535 MQTT allows.", nameof(value));
        }

        WriteUInt16(value.Length);
        WriteBytes(value);
    }

    public static int EncodeVariableInteger(int value, Span<byte> destination)
    {
        if (value is < 0 or > MaxRemainingLength)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"A variable byte integer holds 0 to {MaxRemainingLength}.");
        }

        var i = 0;
        do
        {
            var digit = (byte)(value & 0x7F);
            value >>= 7;
            destination[i++] = value > 0 ? (byte)(digit | 0x80) : digit;
        }
        while (value > 0);
        return i;
    }

    public static int VariableIntegerSize(int value) => value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CloseLength(int lengthAt, string what)
    {
        var bodyStart = lengthAt + LengthReserve;
        var bodyLength = Length - bodyStart;
        if (bodyLength > MaxRemainingLength)
        {
            throw new ArgumentException($"The packet's {what} of {bodyLength} bytes exceeds MQTT's maximum of {MaxRemainingLength}.");
        }

        var size = VariableIntegerSize(bodyLength);
        EncodeVariableInteger(bodyLength, _buffer.AsSpan(lengthAt));
        if (size < LengthReserve)
        {
            // Bodies are small next to the cost of a second encoding pass, so closing the gap is cheaper than measuring first.
            _buffer.AsSpan(bodyStart, bodyLength).CopyTo(_buffer.AsSpan(lengthAt + size));
            Length -= LengthReserve - size;
        }
    }

    private void Reserve(int count)
    {
        Ensure(count);
        Length += count;
    }

    private void Ensure(int count)
    {
        if (Length + count <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
        _buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
