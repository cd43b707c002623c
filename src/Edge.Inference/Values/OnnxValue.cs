using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>What an ONNX value is: the numbers are ONNX Runtime's <c>ONNXType</c>.</summary>
public enum OnnxValueKind
{
    /// <summary>A type this binding does not read (opaque, sparse tensor).</summary>
    Unknown = 0,

    /// <summary>A tensor.</summary>
    Tensor = 1,

    /// <summary>An ordered list of tensors (or, from the runtime, of maps).</summary>
    Sequence = 2,

    /// <summary>Keys and values, held as two tensors of equal length.</summary>
    Map = 3,

    /// <summary>A value that may be absent.</summary>
    Optional = 6,
}

/// <summary>
/// Any ONNX value: a tensor, a sequence, a map or an optional. Models that take or return sequences,
/// maps or optionals run through <see cref="InferenceSession.Run(IReadOnlyDictionary{string, OnnxValue}, CancellationToken)"/>;
/// tensor-only models are better served by the <see cref="Tensor"/> overloads, which allocate nothing per run.
/// </summary>
/// <remarks>
/// Values you make hold a native copy made by ONNX Runtime (for sequences and maps), so later changes to
/// the tensors you passed are not seen; disposing the value frees that copy and leaves your tensors alone.
/// Values a run returns own everything under them; dispose the <see cref="SessionValues"/> to free them.
/// </remarks>
public sealed class OnnxValue : IDisposable
{
    private static readonly OnnxValue[] NoElements = [];
    private readonly OrtHandle? _native;
    private readonly bool _ownsParts;
    private bool _disposed;

    private OnnxValue(OnnxValueKind kind, OrtHandle? native, bool ownsParts)
    {
        Kind = kind;
        _native = native;
        _ownsParts = ownsParts;
    }

    /// <summary>Whether this is a tensor, sequence, map or optional.</summary>
    public OnnxValueKind Kind { get; }

    /// <summary>The tensor, when <see cref="Kind"/> is <see cref="OnnxValueKind.Tensor"/>; otherwise null.</summary>
    public Tensor? Tensor { get; private init; }

    /// <summary>A sequence's elements in order; empty for other kinds.</summary>
    public IReadOnlyList<OnnxValue> Elements { get; private init; } = NoElements;

    /// <summary>A map's keys (a 1-D tensor of integers or strings); null for other kinds.</summary>
    public Tensor? Keys { get; private init; }

    /// <summary>A map's values, one per key; null for other kinds.</summary>
    public Tensor? Values { get; private init; }

    /// <summary>What an optional holds, or null when it holds nothing (and for other kinds).</summary>
    public OnnxValue? Contained { get; private init; }

    /// <summary>False only for an optional that holds nothing.</summary>
    public bool HasValue => Kind != OnnxValueKind.Optional || Contained is not null;

    /// <summary>A tensor as a value. The tensor stays yours: disposing the value does not dispose it.</summary>
    public static OnnxValue FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new OnnxValue(OnnxValueKind.Tensor, null, ownsParts: false) { Tensor = tensor };
    }

    /// <summary>A sequence of tensors, all of one element type. ONNX Runtime copies their data now.</summary>
    /// <exception cref="OnnxRuntimeException">The runtime refuses the tensors (mixed element types; an empty list, which its C API cannot make).</exception>
    public static unsafe OnnxValue Sequence(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var handles = stackalloc nint[Math.Max(tensors.Count, 1)];
        for (var i = 0; i < tensors.Count; i++)
        {
            handles[i] = (tensors[i] ?? throw new ArgumentException($"Sequence element {i} is null.", nameof(tensors))).GetValueHandle();
        }

        var native = new OrtHandle(OrtApi.CreateValue(handles, tensors.Count, (int)OnnxValueKind.Sequence), OrtRelease.Value);
        return new OnnxValue(OnnxValueKind.Sequence, native, ownsParts: false) { Elements = [.. tensors.Select(FromTensor)] };
    }

    /// <summary>A map from 1-D <paramref name="keys"/> (integers or strings) to 1-D <paramref name="values"/> of the same length. ONNX Runtime copies them now.</summary>
    /// <exception cref="OnnxRuntimeException">The runtime refuses them (lengths differ, a key type it does not map).</exception>
    public static unsafe OnnxValue Map(Tensor keys, Tensor values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        var handles = stackalloc nint[2] { keys.GetValueHandle(), values.GetValueHandle() };
        var native = new OrtHandle(OrtApi.CreateValue(handles, 2, (int)OnnxValueKind.Map), OrtRelease.Value);
        return new OnnxValue(OnnxValueKind.Map, native, ownsParts: false) { Keys = keys, Values = values };
    }

    /// <summary>An optional holding <paramref name="value"/>, or nothing when it is null. The contained value stays yours.</summary>
    public static OnnxValue Optional(OnnxValue? value) =>
        new(OnnxValueKind.Optional, null, ownsParts: false) { Contained = value };

    /// <summary>The native value to feed, or 0 for an optional holding nothing (then the input is left out).</summary>
    internal nint GetInputHandle()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Kind switch
        {
            OnnxValueKind.Tensor => Tensor!.GetValueHandle(),
            OnnxValueKind.Optional => Contained?.GetInputHandle() ?? 0,
            _ => _native!.DangerousGetHandle(),
        };
    }

    /// <summary>Takes ownership of a value the runtime returned, and of everything read out of it.</summary>
    internal static OnnxValue FromRuntime(nint value, OnnxValueKind declared, string name)
    {
        if (declared == OnnxValueKind.Optional)
        {
            if (!OrtApi.HasValue(value))
            {
                OrtApi.Release(OrtRelease.Value, value);
                return new OnnxValue(OnnxValueKind.Optional, null, ownsParts: true);
            }

            return new OnnxValue(OnnxValueKind.Optional, null, ownsParts: true) { Contained = FromRuntime(value, OnnxValueKind.Unknown, name) };
        }

        var kind = (OnnxValueKind)OrtApi.GetValueType(value);
        if (kind == OnnxValueKind.Tensor)
        {
            return new OnnxValue(kind, null, ownsParts: true) { Tensor = RuntimeTensors.Wrap(value, name) };
        }

        var native = new OrtHandle(value, OrtRelease.Value);
        var parts = new List<OnnxValue>();
        try
        {
            switch (kind)
            {
                case OnnxValueKind.Sequence:
                    var count = OrtApi.GetValueCount(value);
                    for (var i = 0; i < count; i++)
                    {
                        parts.Add(FromRuntime(OrtApi.GetValue(value, i), OnnxValueKind.Unknown, $"{name}[{i}]"));
                    }

                    return new OnnxValue(kind, native, ownsParts: true) { Elements = [.. parts] };
                case OnnxValueKind.Map:
                    parts.Add(FromRuntime(OrtApi.GetValue(value, 0), OnnxValueKind.Unknown, $"{name}.keys"));
                    parts.Add(FromRuntime(OrtApi.GetValue(value, 1), OnnxValueKind.Unknown, $"{name}.values"));
                    return new OnnxValue(kind, native, ownsParts: true) { Keys = parts[0].Tensor, Values = parts[1].Tensor };
                default:
                    throw new NotSupportedException($"Output '{name}' is a {kind} value, which this binding does not read.");
            }
        }
        catch
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }

            native.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        OnnxValueKind.Tensor => Tensor!.ToString(),
        OnnxValueKind.Sequence => $"Sequence of {Elements.Count}",
        OnnxValueKind.Map => $"Map {Keys} -> {Values}",
        OnnxValueKind.Optional => Contained is null ? "Optional (none)" : $"Optional of {Contained}",
        _ => Kind.ToString(),
    };

    /// <summary>Frees the native value this object made or was given; runtime outputs free their tensors too.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsParts)
        {
            Tensor?.Dispose();
            Keys?.Dispose();
            Values?.Dispose();
            Contained?.Dispose();
            foreach (var element in Elements)
            {
                element.Dispose();
            }
        }

        _native?.Dispose();
    }
}

/// <summary>
/// Values ONNX Runtime returned from one run, in the model's output order. Dispose it to free them.
/// </summary>
public sealed class SessionValues : IReadOnlyList<OnnxValue>, IDisposable
{
    private readonly OnnxValue[] _values;
    private readonly IReadOnlyList<TensorInfo> _info;

    internal SessionValues(OnnxValue[] values, IReadOnlyList<TensorInfo> info)
    {
        _values = values;
        _info = info;
    }

    /// <inheritdoc />
    public int Count => _values.Length;

    /// <inheritdoc />
    public OnnxValue this[int index] => _values[index];

    /// <summary>An output by name.</summary>
    /// <exception cref="KeyNotFoundException">The model has no such output; the message lists those it has.</exception>
    public OnnxValue this[string name] => _values[SessionOutputs.IndexOfOutput(_info, name)];

    /// <inheritdoc />
    public IEnumerator<OnnxValue> GetEnumerator() => ((IEnumerable<OnnxValue>)_values).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees every output.</summary>
    public void Dispose()
    {
        foreach (var value in _values)
        {
            value.Dispose();
        }
    }
}
