using System.Buffers.Binary;
using System.Text;

namespace Edge.Inference.Tests.Conformance;

/// <summary>A decoded ONNX <c>TensorProto</c>: its name, type, dimensions and elements.</summary>
internal sealed record TensorProtoData(string Name, int DataType, long[] Dims, byte[] Raw, List<long> Varints, List<float> Floats, List<double> Doubles, List<byte[]> Strings)
{
    public long Count => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reads the protobuf wire format of <c>onnx.TensorProto</c>, the format of the backend tests'
/// input_N.pb / output_N.pb files. Only the fields that carry data are kept.
/// </summary>
internal static class TensorProtoReader
{
    public static TensorProtoData Read(ReadOnlySpan<byte> bytes)
    {
        var name = string.Empty;
        var dataType = 0;
        var dims = new List<long>();
        var raw = Array.Empty<byte>();
        var varints = new List<long>();
        var floats = new List<float>();
        var doubles = new List<double>();
        var strings = new List<byte[]>();
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            var field = (int)(key >> 3);
            var wire = (int)(key & 7);
            switch (field, wire)
            {
                case (1, 0): dims.Add((long)ReadVarint(bytes, ref position)); break;
                case (1, 2): ReadPackedVarints(Bytes(bytes, ref position), dims); break;
                case (2, 0): dataType = (int)ReadVarint(bytes, ref position); break;
                case (4, 5): floats.Add(BinaryPrimitives.ReadSingleLittleEndian(Fixed(bytes, ref position, 4))); break;
                case (4, 2):
                    var packedFloats = Bytes(bytes, ref position);
                    for (var i = 0; i + 4 <= packedFloats.Length; i += 4)
                    {
                        floats.Add(BinaryPrimitives.ReadSingleLittleEndian(packedFloats[i..]));
                    }

                    break;
                case (5 or 7 or 11, 0): varints.Add((long)ReadVarint(bytes, ref position)); break;
                case (5 or 7 or 11, 2): ReadPackedVarints(Bytes(bytes, ref position), varints); break;
                case (6, 2): strings.Add(Bytes(bytes, ref position).ToArray()); break;
                case (8, 2): name = Encoding.UTF8.GetString(Bytes(bytes, ref position)); break;
                case (9, 2): raw = Bytes(bytes, ref position).ToArray(); break;
                case (10, 1): doubles.Add(BinaryPrimitives.ReadDoubleLittleEndian(Fixed(bytes, ref position, 8))); break;
                case (10, 2):
                    var packedDoubles = Bytes(bytes, ref position);
                    for (var i = 0; i + 8 <= packedDoubles.Length; i += 8)
                    {
                        doubles.Add(BinaryPrimitives.ReadDoubleLittleEndian(packedDoubles[i..]));
                    }

                    break;
                case (14, 0) when ReadVarint(bytes, ref position) != 0:
                    throw new NotSupportedException("tensor data stored in an external file");
                default: Skip(bytes, ref position, wire); break;
            }
        }

        return new TensorProtoData(name, dataType, [.. dims], raw, varints, floats, doubles, strings);
    }

    /// <summary>Whether a .pb file holds a TensorProto rather than a SequenceProto, MapProto or OptionalProto.</summary>
    public static bool LooksLikeTensor(ReadOnlySpan<byte> bytes)
    {
        // A TensorProto's fields are numbered 1-14 with the wire types above; a SequenceProto starts
        // with name (1, length-delimited) and an elem_type (2, varint) of 1-4, and carries tensor_values (3).
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            var field = (int)(key >> 3);
            var wire = (int)(key & 7);
            if (field == 3 && wire == 2)
            {
                return false;
            }

            Skip(bytes, ref position, wire);
        }

        return true;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = bytes[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("varint longer than 10 bytes");
    }

    private static void ReadPackedVarints(ReadOnlySpan<byte> packed, List<long> into)
    {
        var position = 0;
        while (position < packed.Length)
        {
            into.Add((long)ReadVarint(packed, ref position));
        }
    }

    private static ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> bytes, ref int position)
    {
        var length = (int)ReadVarint(bytes, ref position);
        var slice = bytes.Slice(position, length);
        position += length;
        return slice;
    }

    private static ReadOnlySpan<byte> Fixed(ReadOnlySpan<byte> bytes, ref int position, int size)
    {
        var slice = bytes.Slice(position, size);
        position += size;
        return slice;
    }

    private static void Skip(ReadOnlySpan<byte> bytes, ref int position, int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(bytes, ref position); break;
            case 1: position += 8; break;
            case 2: Bytes(bytes, ref position); break;
            case 5: position += 4; break;
            default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
        }
    }
}
