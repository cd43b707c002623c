using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference.Tests.Conformance;

/// <summary>A decoded ONNX <c>TensorProto</c>: its name, type, dimensions and elements.</summary>
internal sealed record TensorProtoData(string Name, int DataType, long[] Dims, byte[] Raw, List<long> Varints, List<float> Floats, List<double> Doubles, List<byte[]> Strings)
{
    public long Count => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A decoded test value: a tensor (<see cref="Tensor"/>), a sequence (<see cref="Elements"/>), a map
/// (keys in <see cref="Tensor"/>, one element per value in <see cref="Elements"/>) or an optional
/// (<see cref="Contained"/>, null when it holds nothing).
/// </summary>
internal sealed record ProtoValue(OnnxValueType Kind)
{
    public TensorProtoData? Tensor { get; init; }

    public List<ProtoValue> Elements { get; init; } = [];

    public ProtoValue? Contained { get; init; }
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

    /// <summary>
    /// Reads a SequenceProto, MapProto or OptionalProto (onnx-data.proto), or a TensorProto, as the
    /// model declares the value: the file itself does not say which message it holds.
    /// </summary>
    public static ProtoValue ReadValue(ReadOnlySpan<byte> bytes, OnnxValueType kind) => kind switch
    {
        OnnxValueType.ONNX_TYPE_SEQUENCE => ReadSequence(bytes),
        OnnxValueType.ONNX_TYPE_MAP => ReadMap(bytes),
        OnnxValueType.ONNX_TYPE_OPTIONAL => ReadOptional(bytes),
        _ => new ProtoValue(OnnxValueType.ONNX_TYPE_TENSOR) { Tensor = Read(bytes) },
    };

    // SequenceProto: name 1, elem_type 2, tensor_values 3, sparse_tensor_values 4, sequence_values 5, map_values 6, optional_values 7.
    private static ProtoValue ReadSequence(ReadOnlySpan<byte> bytes)
    {
        var elements = new List<ProtoValue>();
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            var wire = (int)(key & 7);
            switch ((int)(key >> 3), wire)
            {
                case (3, 2): elements.Add(new ProtoValue(OnnxValueType.ONNX_TYPE_TENSOR) { Tensor = Read(Bytes(bytes, ref position)) }); break;
                case (4, 2): throw new NotSupportedException("a sequence of sparse tensors");
                case (5, 2): elements.Add(ReadSequence(Bytes(bytes, ref position))); break;
                case (6, 2): elements.Add(ReadMap(Bytes(bytes, ref position))); break;
                case (7, 2): elements.Add(ReadOptional(Bytes(bytes, ref position))); break;
                default: Skip(bytes, ref position, wire); break;
            }
        }

        return new ProtoValue(OnnxValueType.ONNX_TYPE_SEQUENCE) { Elements = elements };
    }

    // MapProto: name 1, key_type 2, keys 3 (int64), string_keys 4 (bytes), values 5 (a SequenceProto).
    private static ProtoValue ReadMap(ReadOnlySpan<byte> bytes)
    {
        var keyType = 0;
        var keys = new List<long>();
        var stringKeys = new List<byte[]>();
        ProtoValue? values = null;
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            var wire = (int)(key & 7);
            switch ((int)(key >> 3), wire)
            {
                case (2, 0): keyType = (int)ReadVarint(bytes, ref position); break;
                case (3, 0): keys.Add((long)ReadVarint(bytes, ref position)); break;
                case (3, 2): ReadPackedVarints(Bytes(bytes, ref position), keys); break;
                case (4, 2): stringKeys.Add(Bytes(bytes, ref position).ToArray()); break;
                case (5, 2): values = ReadSequence(Bytes(bytes, ref position)); break;
                default: Skip(bytes, ref position, wire); break;
            }
        }

        var count = keyType == (int)TensorElementType.String ? stringKeys.Count : keys.Count;
        var keyTensor = new TensorProtoData(string.Empty, keyType, [count], [], keys, [], [], stringKeys);
        return new ProtoValue(OnnxValueType.ONNX_TYPE_MAP) { Tensor = keyTensor, Elements = values?.Elements ?? [] };
    }

    // OptionalProto: name 1, elem_type 2, tensor_value 3, sparse_tensor_value 4, sequence_value 5, map_value 6, optional_value 7.
    private static ProtoValue ReadOptional(ReadOnlySpan<byte> bytes)
    {
        ProtoValue? contained = null;
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            var wire = (int)(key & 7);
            switch ((int)(key >> 3), wire)
            {
                case (3, 2): contained = new ProtoValue(OnnxValueType.ONNX_TYPE_TENSOR) { Tensor = Read(Bytes(bytes, ref position)) }; break;
                case (4, 2): throw new NotSupportedException("an optional sparse tensor");
                case (5, 2): contained = ReadSequence(Bytes(bytes, ref position)); break;
                case (6, 2): contained = ReadMap(Bytes(bytes, ref position)); break;
                case (7, 2): contained = ReadOptional(Bytes(bytes, ref position)); break;
                default: Skip(bytes, ref position, wire); break;
            }
        }

        return new ProtoValue(OnnxValueType.ONNX_TYPE_OPTIONAL) { Contained = contained };
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
