using System.Buffers;
using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>Views over tensors whose memory ONNX Runtime allocated: outputs whose shape only the run knows.</summary>
internal static class RuntimeTensors
{
    /// <summary>Wraps a value the runtime returned; the tensor owns it from here on and frees it on dispose.</summary>
    public static unsafe Tensor Wrap(nint value, string name)
    {
        var handle = new OrtHandle(value, OrtRelease.Value);
        try
        {
            if (!OrtApi.IsTensor(value))
            {
                throw new NotSupportedException($"Output '{name}' is a {(OnnxValueKind)OrtApi.GetValueType(value)}, not a tensor; run with OnnxValue inputs to read it.");
            }

            using var info = new OrtHandle(OrtApi.GetTensorTypeAndShape(value), OrtRelease.TensorTypeAndShapeInfo);
            var type = OrtApi.GetElementType(info.DangerousGetHandle());
            var shape = OrtApi.GetDimensions(info.DangerousGetHandle());
            var count = checked((int)Tensor.ShapeSize(shape));
            if (type == TensorElementType.String)
            {
                return StringTensor.FromValue(handle, shape);
            }

            var data = count == 0 ? null : OrtApi.GetTensorMutableData(value);
            return type switch
            {
                TensorElementType.Float => Over<float>(data, count, shape, handle),
                TensorElementType.Double => Over<double>(data, count, shape, handle),
                TensorElementType.Float16 => Over<Half>(data, count, shape, handle),
                TensorElementType.BFloat16 => Over<BFloat16>(data, count, shape, handle),
                TensorElementType.UInt8 => Over<byte>(data, count, shape, handle),
                TensorElementType.Int8 => Over<sbyte>(data, count, shape, handle),
                TensorElementType.UInt16 => Over<ushort>(data, count, shape, handle),
                TensorElementType.Int16 => Over<short>(data, count, shape, handle),
                TensorElementType.Int32 => Over<int>(data, count, shape, handle),
                TensorElementType.Int64 => Over<long>(data, count, shape, handle),
                TensorElementType.UInt32 => Over<uint>(data, count, shape, handle),
                TensorElementType.UInt64 => Over<ulong>(data, count, shape, handle),
                TensorElementType.Bool => Over<bool>(data, count, shape, handle),
                _ => throw new NotSupportedException($"Output '{name}' has element type {type}, which this binding does not read."),
            };
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static unsafe Tensor<T> Over<T>(void* data, int count, long[] shape, OrtHandle value)
        where T : unmanaged => new(new NativeBuffer<T>((T*)data, count).Memory, shape, value);

    /// <summary>Memory&lt;T&gt; over native memory that another object owns and frees.</summary>
    private sealed unsafe class NativeBuffer<T>(T* pointer, int length) : MemoryManager<T>
        where T : unmanaged
    {
        public override Span<T> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}

/// <summary>
/// Outputs that ONNX Runtime allocated for one run, in the model's output order. Dispose it to free
/// them; the tensors are not valid after that.
/// </summary>
public sealed class SessionOutputs : IReadOnlyList<Tensor>, IDisposable
{
    private readonly Tensor[] _tensors;
    private readonly IReadOnlyList<TensorInfo> _info;

    internal SessionOutputs(Tensor[] tensors, IReadOnlyList<TensorInfo> info)
    {
        _tensors = tensors;
        _info = info;
    }

    /// <inheritdoc />
    public int Count => _tensors.Length;

    /// <inheritdoc />
    public Tensor this[int index] => _tensors[index];

    /// <summary>An output by name.</summary>
    /// <exception cref="KeyNotFoundException">The model has no such output; the message lists those it has.</exception>
    public Tensor this[string name] => _tensors[IndexOfOutput(_info, name)];

    internal static int IndexOfOutput(IReadOnlyList<TensorInfo> info, string name)
    {
        for (var i = 0; i < info.Count; i++)
        {
            if (info[i].Name == name)
            {
                return i;
            }
        }

        throw new KeyNotFoundException($"The model has no output '{name}'; its outputs are {string.Join(", ", info.Select(o => o.Name))}.");
    }

    /// <inheritdoc />
    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)_tensors).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees every output.</summary>
    public void Dispose()
    {
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }
    }
}
