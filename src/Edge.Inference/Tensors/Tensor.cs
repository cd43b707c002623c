using System.Buffers;
using System.Runtime.CompilerServices;
using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>
/// A tensor whose elements live in managed memory that ONNX Runtime reads and writes in place.
/// The memory is pinned for the tensor's life, so a run neither copies it nor allocates.
/// </summary>
public abstract class Tensor : IDisposable
{
    private readonly long[] _shape;
    private OrtHandle? _value;
    private bool _disposed;

    private protected Tensor(TensorElementType elementType, ReadOnlySpan<long> shape, OrtHandle? value = null)
    {
        _value = value;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Tensor dimensions must be fixed and non-negative; got {TensorInfo.FormatShape(shape.ToArray())}.", nameof(shape));
            }
        }

        ElementType = elementType;
        _shape = shape.ToArray();
        ElementCount = ShapeSize(shape);
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>The number of elements: the product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>The size of the element data in bytes.</summary>
    public long ByteLength => ElementCount * TensorElement.SizeOf(ElementType);

    internal long[] ShapeArray => _shape;

    /// <summary>The native value over this tensor's memory, made once and reused by every run.</summary>
    internal nint GetValueHandle()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _value ??= new OrtHandle(CreateValue(), OrtRelease.Value);
        return _value.DangerousGetHandle();
    }

    /// <summary>Makes the native value; by default one that reads and writes this tensor's pinned memory.</summary>
    private protected virtual unsafe nint CreateValue()
    {
        fixed (long* shape = _shape)
        {
            return OrtApi.CreateTensorWithData(OrtEnvironment.CpuMemoryInfo, DataPointer, (nuint)ByteLength, shape, (nuint)_shape.Length, ElementType);
        }
    }

    private protected abstract unsafe void* DataPointer { get; }

    /// <summary>The tensor as <see cref="Tensor{T}"/>, or an exception naming both element types.</summary>
    /// <exception cref="InvalidCastException">The elements are not <typeparamref name="T"/>.</exception>
    public Tensor<T> As<T>()
        where T : unmanaged =>
        this as Tensor<T> ?? throw new InvalidCastException($"This tensor holds {ElementType} elements{TensorInfo.FormatShape(_shape)}, not {typeof(T).Name} ({TensorElement.Of<T>()}).");

    /// <summary>Releases the native value and unpins the memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    /// <param name="disposing">False when called from a finalizer.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _value?.Dispose();
    }

    /// <summary>
    /// Wraps memory the caller owns, without copying. The memory stays pinned until the tensor
    /// is disposed, and the caller must keep it valid until then.
    /// </summary>
    public static Tensor<T> Wrap<T>(Memory<T> memory, ReadOnlySpan<long> shape)
        where T : unmanaged => new(memory, shape);

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    internal static long ShapeSize(ReadOnlySpan<long> shape)
    {
        long size = 1;
        foreach (var dim in shape)
        {
            size = checked(size * dim);
        }

        return size;
    }

    /// <inheritdoc />
    public override string ToString() => $"{ElementType}{TensorInfo.FormatShape(_shape)}";
}

/// <summary>A tensor of <typeparamref name="T"/> elements.</summary>
/// <typeparam name="T">float, double, <see cref="Half"/>, <see cref="BFloat16"/>, bool, or a fixed-size integer type.</typeparam>
public sealed class Tensor<T> : Tensor
    where T : unmanaged
{
    private readonly Memory<T> _memory;
    private MemoryHandle _pin;

    internal Tensor(Memory<T> memory, ReadOnlySpan<long> shape, OrtHandle? value = null)
        : base(ElementTypeOf(), shape, value)
    {
        if (memory.Length != ElementCount)
        {
            throw new ArgumentException($"A tensor of shape {TensorInfo.FormatShape(shape.ToArray())} needs {ElementCount} elements; the memory given holds {memory.Length}.", nameof(memory));
        }

        _memory = memory;
        _pin = memory.Pin();
    }

    /// <summary>Allocates a zeroed tensor in pinned memory.</summary>
    /// <param name="shape">Its dimensions, all fixed.</param>
    public Tensor(ReadOnlySpan<long> shape)
        : this(GC.AllocateArray<T>(checked((int)ShapeSize(shape)), pinned: true), shape)
    {
    }

    /// <summary>The elements, in row-major order.</summary>
    public Span<T> Span
    {
        get
        {
            ThrowIfDisposed();
            return _memory.Span;
        }
    }

    /// <summary>The elements as memory, for APIs that need it.</summary>
    public Memory<T> Memory => _memory;

    /// <summary>Copies the elements into a new array.</summary>
    public T[] ToArray() => Span.ToArray();

    private protected override unsafe void* DataPointer => _pin.Pointer;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _pin.Dispose();
        _pin = default;
    }

    private static TensorElementType ElementTypeOf()
    {
        var type = TensorElement.Of<T>();
        if (type == TensorElementType.Undefined)
        {
            throw new NotSupportedException($"{typeof(T).Name} is not an ONNX tensor element type. Use float, double, Half, BFloat16, bool, or a fixed-size integer; strings go in a StringTensor.");
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            throw new NotSupportedException($"{typeof(T).Name} contains references.");
        }

        return type;
    }
}
