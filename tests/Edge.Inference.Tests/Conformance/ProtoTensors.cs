using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Edge.Inference.Tests.Conformance;

/// <summary>Turns decoded TensorProtos into ONNX Runtime tensors (<see cref="OrtValue"/>), and any tensor into values to compare.</summary>
internal static class ProtoTensors
{
    /// <summary>The element type the file holds, as the model means it.</summary>
    /// <param name="proto">The decoded file.</param>
    /// <param name="modelType">The type the model declares: ONNX 1.12 stores bfloat16 test data as uint16 bits.</param>
    public static TensorElementType TypeOf(TensorProtoData proto, TensorElementType modelType)
    {
        var type = (TensorElementType)proto.DataType;
        return type == TensorElementType.UInt16 && modelType == TensorElementType.BFloat16 ? TensorElementType.BFloat16 : type;
    }

    /// <summary>
    /// True for the element types Microsoft.ML.OnnxRuntime.Managed 1.30 can hold in a tensor: its
    /// <see cref="TensorElementType"/> stops at BFloat16 (16), so float8 (17-20), uint4/int4 (21-22)
    /// and float4 (23) have no managed element type. Complex types have none either.
    /// </summary>
    public static bool IsRepresentable(TensorElementType type) =>
        (int)type > 0 && type < TensorElementType.DataTypeMax && type is not TensorElementType.Complex64 and not TensorElementType.Complex128;

    /// <summary>A tensor the runtime allocates, filled from the file; the caller disposes it.</summary>
    /// <param name="proto">The decoded file.</param>
    /// <param name="modelType">The type the model declares (see <see cref="TypeOf"/>).</param>
    public static OrtValue ToOrtValue(TensorProtoData proto, TensorElementType modelType)
    {
        var type = TypeOf(proto, modelType);
        if (!IsRepresentable(type))
        {
            throw new NotSupportedException($"element type {proto.DataType} ({type}) has no tensor type in Microsoft.ML.OnnxRuntime.Managed {OnnxRuntimeLibrary.ManagedVersion}");
        }

        if (type == TensorElementType.String)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, proto.Dims);
            for (var i = 0; i < proto.Strings.Count; i++)
            {
                strings.StringTensorSetElementAt(proto.Strings[i].AsSpan(), i);
            }

            return strings;
        }

        var bytes = RawBytes(proto, type);
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, proto.Dims);
        try
        {
            switch (type)
            {
                case TensorElementType.Float: Fill<float>(value, bytes); break;
                case TensorElementType.Double: Fill<double>(value, bytes); break;
                case TensorElementType.Float16: Fill<Float16>(value, bytes); break;
                case TensorElementType.BFloat16: Fill<BFloat16>(value, bytes); break;
                case TensorElementType.UInt8: Fill<byte>(value, bytes); break;
                case TensorElementType.Int8: Fill<sbyte>(value, bytes); break;
                case TensorElementType.UInt16: Fill<ushort>(value, bytes); break;
                case TensorElementType.Int16: Fill<short>(value, bytes); break;
                case TensorElementType.Int32: Fill<int>(value, bytes); break;
                case TensorElementType.Int64: Fill<long>(value, bytes); break;
                case TensorElementType.UInt32: Fill<uint>(value, bytes); break;
                case TensorElementType.UInt64: Fill<ulong>(value, bytes); break;
                case TensorElementType.Bool: Fill<bool>(value, bytes); break;
                default: throw new NotSupportedException($"element type {type}");
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>The element type and shape of a tensor.</summary>
    public static (TensorElementType Type, long[] Shape) Describe(OrtValue tensor)
    {
        var info = tensor.GetTensorTypeAndShape();
        return (info.ElementDataType, info.Shape);
    }

    /// <summary>Numbers as doubles (NaN and infinities kept), or strings; bool as 0/1.</summary>
    public static (double[]? Numbers, string[]? Strings) Values(OrtValue tensor) => Describe(tensor).Type switch
    {
        TensorElementType.String => (null, tensor.GetStringTensorAsArray()),
        TensorElementType.Float => (Numbers<float>(tensor, v => v), null),
        TensorElementType.Double => (Numbers<double>(tensor, v => v), null),
        TensorElementType.Float16 => (Numbers<Float16>(tensor, v => (float)v), null),
        TensorElementType.BFloat16 => (Numbers<BFloat16>(tensor, v => (float)v), null),
        TensorElementType.UInt8 => (Numbers<byte>(tensor, v => v), null),
        TensorElementType.Int8 => (Numbers<sbyte>(tensor, v => v), null),
        TensorElementType.UInt16 => (Numbers<ushort>(tensor, v => v), null),
        TensorElementType.Int16 => (Numbers<short>(tensor, v => v), null),
        TensorElementType.Int32 => (Numbers<int>(tensor, v => v), null),
        TensorElementType.UInt32 => (Numbers<uint>(tensor, v => v), null),
        // 64-bit integers beyond 2^53 lose bits as doubles; compare them exactly instead.
        TensorElementType.Int64 => (Numbers<long>(tensor, BitConverter.Int64BitsToDouble), null),
        TensorElementType.UInt64 => (Numbers<ulong>(tensor, v => BitConverter.Int64BitsToDouble((long)v)), null),
        TensorElementType.Bool => (Numbers<bool>(tensor, v => v ? 1.0 : 0.0), null),
        var other => throw new NotSupportedException($"element type {other}"),
    };

    public static bool IsFloatingPoint(TensorElementType type) =>
        type is TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16 or TensorElementType.BFloat16;

    private static void Fill<T>(OrtValue value, byte[] bytes)
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes).CopyTo(value.GetTensorMutableDataAsSpan<T>());

    private static double[] Numbers<T>(OrtValue tensor, Func<T, double> convert)
        where T : unmanaged
    {
        var span = tensor.GetTensorDataAsSpan<T>();
        var numbers = new double[span.Length];
        for (var i = 0; i < span.Length; i++)
        {
            numbers[i] = convert(span[i]);
        }

        return numbers;
    }

    /// <summary>The elements as little-endian bytes of their own type, from raw_data or the typed fields.</summary>
    private static byte[] RawBytes(TensorProtoData proto, TensorElementType type)
    {
        if (proto.Raw.Length > 0 || proto.Count == 0)
        {
            return proto.Raw;
        }

        var size = SizeOf(type);
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

    private static int SizeOf(TensorElementType type) => type switch
    {
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Float or TensorElementType.Int32 or TensorElementType.UInt32 => 4,
        TensorElementType.Double or TensorElementType.Int64 or TensorElementType.UInt64 => 8,
        _ => throw new NotSupportedException($"element type {type}"),
    };
}
