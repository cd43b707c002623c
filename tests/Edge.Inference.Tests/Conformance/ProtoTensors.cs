using System.Runtime.InteropServices;
using System.Text;

namespace Edge.Inference.Tests.Conformance;

/// <summary>Turns decoded TensorProtos into our tensors, and any tensor into values to compare.</summary>
internal static class ProtoTensors
{
    /// <param name="proto">The decoded file.</param>
    /// <param name="modelType">The type the model declares: ONNX 1.12 stores bfloat16 test data as uint16 bits.</param>
    public static Tensor ToTensor(TensorProtoData proto, TensorElementType modelType)
    {
        var type = (TensorElementType)proto.DataType;
        if (type == TensorElementType.UInt16 && modelType == TensorElementType.BFloat16)
        {
            type = TensorElementType.BFloat16;
        }

        if (type == TensorElementType.String)
        {
            return new StringTensor([.. proto.Strings.Select(s => Encoding.UTF8.GetString(s))], proto.Dims);
        }

        var bytes = RawBytes(proto);
        return type switch
        {
            TensorElementType.Float => Wrap<float>(bytes, proto.Dims),
            TensorElementType.Double => Wrap<double>(bytes, proto.Dims),
            TensorElementType.Float16 => Wrap<Half>(bytes, proto.Dims),
            TensorElementType.BFloat16 => Wrap<BFloat16>(bytes, proto.Dims),
            TensorElementType.UInt8 => Wrap<byte>(bytes, proto.Dims),
            TensorElementType.Int8 => Wrap<sbyte>(bytes, proto.Dims),
            TensorElementType.UInt16 => Wrap<ushort>(bytes, proto.Dims),
            TensorElementType.Int16 => Wrap<short>(bytes, proto.Dims),
            TensorElementType.Int32 => Wrap<int>(bytes, proto.Dims),
            TensorElementType.Int64 => Wrap<long>(bytes, proto.Dims),
            TensorElementType.UInt32 => Wrap<uint>(bytes, proto.Dims),
            TensorElementType.UInt64 => Wrap<ulong>(bytes, proto.Dims),
            TensorElementType.Bool => Wrap<bool>(bytes, proto.Dims),
            _ => throw new NotSupportedException($"element type {type}"),
        };
    }

    /// <summary>Numbers as doubles (NaN and infinities kept), or strings; bool as 0/1.</summary>
    public static (double[]? Numbers, string[]? Strings) Values(Tensor tensor) => tensor switch
    {
        StringTensor s => (null, [.. s.Values]),
        Tensor<float> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<double> t => (t.Span.ToArray(), null),
        Tensor<Half> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<BFloat16> t => ([.. t.Span.ToArray().Select(v => (double)v.ToSingle())], null),
        Tensor<byte> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<sbyte> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<ushort> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<short> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<int> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        Tensor<uint> t => ([.. t.Span.ToArray().Select(v => (double)v)], null),
        // 64-bit integers beyond 2^53 lose bits as doubles; compare them exactly instead.
        Tensor<long> t => ([.. t.Span.ToArray().Select(BitConverter.Int64BitsToDouble)], null),
        Tensor<ulong> t => ([.. t.Span.ToArray().Select(v => BitConverter.Int64BitsToDouble((long)v))], null),
        Tensor<bool> t => ([.. t.Span.ToArray().Select(v => v ? 1.0 : 0.0)], null),
        _ => throw new NotSupportedException(tensor.ToString()),
    };

    public static bool IsFloatingPoint(TensorElementType type) =>
        type is TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16 or TensorElementType.BFloat16;

    private static Tensor<T> Wrap<T>(byte[] bytes, long[] dims)
        where T : unmanaged => Tensor.Wrap<T>(MemoryMarshal.Cast<byte, T>(bytes).ToArray(), dims);

    /// <summary>The elements as little-endian bytes of their own type, from raw_data or the typed fields.</summary>
    private static byte[] RawBytes(TensorProtoData proto)
    {
        if (proto.Raw.Length > 0 || proto.Count == 0)
        {
            return proto.Raw;
        }

        var type = (TensorElementType)proto.DataType;
        var size = TensorElement.SizeOf(type);
        var bytes = new byte[proto.Count * size];
        var span = bytes.AsSpan();
        switch (type)
        {
            case TensorElementType.Float:
                MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(proto.Floats)).CopyTo(span);
                break;
            case TensorElementType.Double:
                MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(proto.Doubles)).CopyTo(span);
                break;
            default:
                // int32_data holds the narrow types (and float16/bfloat16 bits); int64_data and uint64_data the wide ones.
                for (var i = 0; i < proto.Varints.Count; i++)
                {
                    var value = proto.Varints[i];
                    var target = span.Slice(i * size, size);
                    switch (size)
                    {
                        case 1: target[0] = (byte)value; break;
                        case 2: MemoryMarshal.Write(target, (ushort)value); break;
                        case 4: MemoryMarshal.Write(target, (uint)value); break;
                        default: MemoryMarshal.Write(target, value); break;
                    }
                }

                break;
        }

        return bytes;
    }
}
