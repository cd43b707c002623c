using System.Runtime.InteropServices;
using System.Text;

namespace Edge.Inference.Native;

// Slots for session options, execution providers, string tensors and IO binding. Every number was
// checked with offsetof(OrtApi, member) / sizeof(void*) against onnxruntime_c_api.h (API 29); all of
// them are at or below 216, so every runtime from OrtLibrary.MinimumVersion on has them.
internal static unsafe partial class OrtApi
{
    // --- session options ---------------------------------------------------------------------

    public static void SetOptimizedModelFilePath(nint options, string path) =>
        WithPath(path, p => Check(((delegate* unmanaged<nint, void*, nint>)Slot(11))(options, (void*)p)));

    public static void SetExecutionMode(nint options, int mode) =>
        Check(((delegate* unmanaged<nint, int, nint>)Slot(13))(options, mode));

    public static void EnableProfiling(nint options, string prefix) =>
        WithPath(prefix, p => Check(((delegate* unmanaged<nint, void*, nint>)Slot(14))(options, (void*)p)));

    public static string SessionEndProfiling(nint session, nint allocator)
    {
        byte* path;
        Check(((delegate* unmanaged<nint, nint, byte**, nint>)Slot(110))(session, allocator, &path));
        return TakeAllocatedString(allocator, path);
    }

    /// <summary>ORTCHAR_T is wchar_t on Windows and UTF-8 char everywhere else.</summary>
    private static void WithPath(string path, Action<nint> call)
    {
        if (OperatingSystem.IsWindows())
        {
            fixed (char* wide = path)
            {
                call((nint)wide);
            }
        }
        else
        {
            using var narrow = new Utf8(path);
            call((nint)narrow.Pointer);
        }
    }

    // --- execution providers -----------------------------------------------------------------

    /// <summary>Slot 216: providers ORT appends by name (OpenVINO, CoreML, DML, QNN, XNNPACK, ...).</summary>
    public static nint AppendExecutionProvider(nint options, string name, IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        using var n = new Utf8(name);
        using var pairs = new Utf8Pairs(settings);
        return ((delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint>)Slot(216))(options, n.Pointer, pairs.Keys, pairs.Values, (nuint)pairs.Count);
    }

    /// <summary>Slots 205, 206, 204 and 208: create CUDA options, set them, append, release.</summary>
    public static nint AppendCuda(nint options, IReadOnlyList<KeyValuePair<string, string>> settings) =>
        AppendV2(options, settings, create: 205, update: 206, append: 204, release: 208);

    /// <summary>Slots 171, 172, 170 and 174: the same for TensorRT.</summary>
    public static nint AppendTensorRt(nint options, IReadOnlyList<KeyValuePair<string, string>> settings) =>
        AppendV2(options, settings, create: 171, update: 172, append: 170, release: 174);

    /// <summary>Returns the append's status (0 on success) rather than throwing, so a caller can fall back.</summary>
    private static nint AppendV2(nint options, IReadOnlyList<KeyValuePair<string, string>> settings, int create, int update, int append, int release)
    {
        nint providerOptions;
        var status = ((delegate* unmanaged<nint*, nint>)Slot(create))(&providerOptions);
        if (status != 0)
        {
            return status;
        }

        try
        {
            if (settings.Count > 0)
            {
                using var pairs = new Utf8Pairs(settings);
                status = ((delegate* unmanaged<nint, byte**, byte**, nuint, nint>)Slot(update))(providerOptions, pairs.Keys, pairs.Values, (nuint)pairs.Count);
                if (status != 0)
                {
                    return status;
                }
            }

            return ((delegate* unmanaged<nint, nint, nint>)Slot(append))(options, providerOptions);
        }
        finally
        {
            Release(release, providerOptions);
        }
    }

    // --- tensors made and owned by ONNX Runtime ----------------------------------------------

    public static nint CreateTensor(nint allocator, ReadOnlySpan<long> shape, TensorElementType type)
    {
        nint value;
        fixed (long* dims = shape)
        {
            Check(((delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)Slot(48))(allocator, dims, (nuint)shape.Length, (int)type, &value));
        }

        return value;
    }

    public static void FillStringTensor(nint value, IReadOnlyList<string> strings)
    {
        using var pairs = new Utf8Pairs([.. strings.Select(s => new KeyValuePair<string, string>(s, string.Empty))]);
        Check(((delegate* unmanaged<nint, byte**, nuint, nint>)Slot(52))(value, pairs.Keys, (nuint)pairs.Count));
    }

    public static string[] GetStringTensorContent(nint value, int count)
    {
        nuint length;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(53))(value, &length));
        var bytes = new byte[(int)length];
        var offsets = new nuint[Math.Max(count, 1)];
        fixed (byte* data = bytes)
        fixed (nuint* starts = offsets)
        {
            Check(((delegate* unmanaged<nint, byte*, nuint, nuint*, nuint, nint>)Slot(54))(value, data, length, starts, (nuint)count));
        }

        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            var start = (int)offsets[i];
            var end = i + 1 < count ? (int)offsets[i + 1] : bytes.Length;
            result[i] = Encoding.UTF8.GetString(bytes, start, end - start);
        }

        return result;
    }

    public static long GetShapeElementCount(nint tensorInfo)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(64))(tensorInfo, &count));
        return (long)count;
    }

    public static bool IsTensor(nint value)
    {
        int result;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(50))(value, &result));
        return result != 0;
    }

    public static int GetValueType(nint value)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(67))(value, &type));
        return type;
    }

    // --- IO binding --------------------------------------------------------------------------

    public static nint CreateIoBinding(nint session)
    {
        nint binding;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(134))(session, &binding));
        return binding;
    }

    public static void BindInput(nint binding, byte* name, nint value) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Slot(136))(binding, name, value));

    public static void BindOutput(nint binding, byte* name, nint value) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Slot(137))(binding, name, value));

    public static nint RunWithBinding(nint session, nint runOptions, nint binding) =>
        ((delegate* unmanaged<nint, nint, nint, nint>)Slot(133))(session, runOptions, binding);

    /// <summary>Keys and values as two native arrays of NUL-terminated UTF-8 strings.</summary>
    private readonly struct Utf8Pairs : IDisposable
    {
        private readonly Utf8[] _keys;
        private readonly Utf8[] _values;

        public Utf8Pairs(IReadOnlyList<KeyValuePair<string, string>> pairs)
        {
            Count = pairs.Count;
            _keys = [.. pairs.Select(p => new Utf8(p.Key))];
            _values = [.. pairs.Select(p => new Utf8(p.Value))];
            Keys = (byte**)NativeMemory.Alloc((nuint)Math.Max(Count, 1), (nuint)sizeof(nint));
            Values = (byte**)NativeMemory.Alloc((nuint)Math.Max(Count, 1), (nuint)sizeof(nint));
            for (var i = 0; i < Count; i++)
            {
                Keys[i] = _keys[i].Pointer;
                Values[i] = _values[i].Pointer;
            }
        }

        public int Count { get; }

        public byte** Keys { get; }

        public byte** Values { get; }

        public void Dispose()
        {
            foreach (var s in _keys)
            {
                s.Dispose();
            }

            foreach (var s in _values)
            {
                s.Dispose();
            }

            NativeMemory.Free(Keys);
            NativeMemory.Free(Values);
        }
    }
}
