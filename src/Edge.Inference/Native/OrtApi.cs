using System.Runtime.InteropServices;
using System.Text;

namespace Edge.Inference.Native;

/// <summary>
/// The slice of <c>OrtApi</c> this SDK calls. Each call reads its slot from the function table that
/// <c>GetApi</c> returned; the table is append-only, so slot numbers are stable across releases.
/// Slot numbers are those of <c>onnxruntime_c_api.h</c> (zero-based, counted from <c>CreateStatus</c>).
/// </summary>
internal static unsafe partial class OrtApi
{
    private static nint* Table => OrtLibrary.Load().Api;

    private static nint Slot(int index) => Table[index];

    public static void Check(nint status)
    {
        if (status != 0)
        {
            throw ToException(status);
        }
    }

    public static OnnxRuntimeException ToException(nint status)
    {
        var code = (OrtErrorCode)((delegate* unmanaged<nint, int>)Slot(1))(status);
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)Slot(2))(status)) ?? "unknown error";
        ((delegate* unmanaged<nint, void>)Slot(93))(status);
        return new OnnxRuntimeException(code, message);
    }

    public static void Release(int slot, nint handle) => ((delegate* unmanaged<nint, void>)Slot(slot))(handle);

    // --- environment -------------------------------------------------------------------------

    public static nint CreateEnv(int logLevel, string logId)
    {
        nint env;
        using var id = new Utf8(logId);
        Check(((delegate* unmanaged<int, byte*, nint*, nint>)Slot(3))(logLevel, id.Pointer, &env));
        return env;
    }

    /// <summary>Slot 4: an environment whose log lines go to <paramref name="logger"/> instead of stderr.</summary>
    public static nint CreateEnvWithCustomLogger(delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void> logger, int logLevel, string logId)
    {
        nint env;
        using var id = new Utf8(logId);
        Check(((delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint>)Slot(4))(
            logger, 0, logLevel, id.Pointer, &env));
        return env;
    }

    public static string[] GetAvailableProviders()
    {
        byte** names;
        int count;
        Check(((delegate* unmanaged<byte***, int*, nint>)Slot(125))(&names, &count));
        try
        {
            var result = new string[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = Marshal.PtrToStringUTF8((nint)names[i]) ?? string.Empty;
            }

            return result;
        }
        finally
        {
            Check(((delegate* unmanaged<byte**, int, nint>)Slot(126))(names, count));
        }
    }

    public static nint GetDefaultAllocator()
    {
        nint allocator;
        Check(((delegate* unmanaged<nint*, nint>)Slot(78))(&allocator));
        return allocator;
    }

    public static void AllocatorFree(nint allocator, nint pointer) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Slot(76))(allocator, pointer));

    public static string TakeAllocatedString(nint allocator, byte* text)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;
        }
        finally
        {
            AllocatorFree(allocator, (nint)text);
        }
    }

    public static nint CreateCpuMemoryInfo()
    {
        nint info;
        // OrtArenaAllocator = 1, OrtMemTypeDefault = 0: what the official bindings use for caller memory.
        Check(((delegate* unmanaged<int, int, nint*, nint>)Slot(69))(1, 0, &info));
        return info;
    }

    // --- session options ---------------------------------------------------------------------

    public static nint CreateSessionOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Slot(10))(&options));
        return options;
    }

    public static void SetGraphOptimizationLevel(nint options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)Slot(23))(options, level));

    public static void SetIntraOpThreads(nint options, int threads) =>
        Check(((delegate* unmanaged<nint, int, nint>)Slot(24))(options, threads));

    public static void SetInterOpThreads(nint options, int threads) =>
        Check(((delegate* unmanaged<nint, int, nint>)Slot(25))(options, threads));

    public static void AddSessionConfigEntry(nint options, string key, string value)
    {
        using var k = new Utf8(key);
        using var v = new Utf8(value);
        Check(((delegate* unmanaged<nint, byte*, byte*, nint>)Slot(130))(options, k.Pointer, v.Pointer));
    }

    // --- sessions ----------------------------------------------------------------------------

    public static nint CreateSession(nint env, string path, nint options)
    {
        nint session;
        if (OperatingSystem.IsWindows())
        {
            // ORTCHAR_T is wchar_t on Windows and char (UTF-8) everywhere else.
            fixed (char* wide = path)
            {
                Check(((delegate* unmanaged<nint, char*, nint, nint*, nint>)Slot(7))(env, wide, options, &session));
            }
        }
        else
        {
            using var narrow = new Utf8(path);
            Check(((delegate* unmanaged<nint, byte*, nint, nint*, nint>)Slot(7))(env, narrow.Pointer, options, &session));
        }

        return session;
    }

    public static nint CreateSessionFromArray(nint env, ReadOnlySpan<byte> model, nint options)
    {
        nint session;
        fixed (byte* data = model)
        {
            Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)Slot(8))(env, data, (nuint)model.Length, options, &session));
        }

        return session;
    }

    public static nint Run(nint session, nint runOptions, nint* inputNames, nint* inputs, nuint inputCount, nint* outputNames, nuint outputCount, nint* outputs) =>
        ((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)Slot(9))(
            session, runOptions, inputNames, inputs, inputCount, outputNames, outputCount, outputs);

    public static nuint SessionInputCount(nint session)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(30))(session, &count));
        return count;
    }

    public static nuint SessionOutputCount(nint session)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(31))(session, &count));
        return count;
    }

    public static nint SessionTypeInfo(nint session, nuint index, bool input)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)Slot(input ? 33 : 34))(session, index, &info));
        return info;
    }

    public static string SessionName(nint session, nuint index, bool input, nint allocator)
    {
        byte* name;
        Check(((delegate* unmanaged<nint, nuint, nint, byte**, nint>)Slot(input ? 36 : 37))(session, index, allocator, &name));
        return TakeAllocatedString(allocator, name);
    }

    // --- run options -------------------------------------------------------------------------

    public static nint CreateRunOptions()
    {
        nint options;
        Check(((delegate* unmanaged<nint*, nint>)Slot(39))(&options));
        return options;
    }

    public static void RunOptionsSetTerminate(nint options) =>
        Check(((delegate* unmanaged<nint, nint>)Slot(46))(options));

    public static void RunOptionsUnsetTerminate(nint options) =>
        Check(((delegate* unmanaged<nint, nint>)Slot(47))(options));

    // --- values and type info ----------------------------------------------------------------

    public static nint CreateTensorWithData(nint memoryInfo, void* data, nuint byteLength, long* shape, nuint rank, TensorElementType type)
    {
        nint value;
        Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)Slot(49))(
            memoryInfo, data, byteLength, shape, rank, (int)type, &value));
        return value;
    }

    public static void* GetTensorMutableData(nint value)
    {
        void* data;
        Check(((delegate* unmanaged<nint, void**, nint>)Slot(51))(value, &data));
        return data;
    }

    public static nint GetTensorTypeAndShape(nint value)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(65))(value, &info));
        return info;
    }

    public static int GetOnnxType(nint typeInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(56))(typeInfo, &type));
        return type;
    }

    /// <summary>Borrowed from the type info: must not be released on its own.</summary>
    public static nint CastToTensorInfo(nint typeInfo)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(55))(typeInfo, &info));
        return info;
    }

    public static TensorElementType GetElementType(nint tensorInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(60))(tensorInfo, &type));
        return (TensorElementType)type;
    }

    public static long[] GetDimensions(nint tensorInfo)
    {
        nuint rank;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(61))(tensorInfo, &rank));
        var dims = new long[(int)rank];
        fixed (long* p = dims)
        {
            Check(((delegate* unmanaged<nint, long*, nuint, nint>)Slot(62))(tensorInfo, p, rank));
        }

        return dims;
    }

    public static string[] GetSymbolicDimensions(nint tensorInfo, int rank)
    {
        var pointers = stackalloc byte*[Math.Max(rank, 1)];
        Check(((delegate* unmanaged<nint, byte**, nuint, nint>)Slot(63))(tensorInfo, pointers, (nuint)rank));
        var names = new string[rank];
        for (var i = 0; i < rank; i++)
        {
            names[i] = Marshal.PtrToStringUTF8((nint)pointers[i]) ?? string.Empty;
        }

        return names;
    }

    // --- model metadata ----------------------------------------------------------------------

    public static nint SessionGetModelMetadata(nint session)
    {
        nint metadata;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(111))(session, &metadata));
        return metadata;
    }

    /// <summary>Slots 112 to 115 and 158: producer, graph name, domain, description, graph description.</summary>
    public static string ModelMetadataString(nint metadata, int slot, nint allocator)
    {
        byte* value;
        Check(((delegate* unmanaged<nint, nint, byte**, nint>)Slot(slot))(metadata, allocator, &value));
        return TakeAllocatedString(allocator, value);
    }

    public static long ModelMetadataVersion(nint metadata)
    {
        long version;
        Check(((delegate* unmanaged<nint, long*, nint>)Slot(117))(metadata, &version));
        return version;
    }

    public static Dictionary<string, string> ModelMetadataCustomMap(nint metadata, nint allocator)
    {
        byte** keys;
        long count;
        Check(((delegate* unmanaged<nint, nint, byte***, long*, nint>)Slot(123))(metadata, allocator, &keys, &count));
        var map = new Dictionary<string, string>((int)count, StringComparer.Ordinal);
        if (keys is null)
        {
            return map;
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                byte* value;
                Check(((delegate* unmanaged<nint, nint, byte*, byte**, nint>)Slot(116))(metadata, allocator, keys[i], &value));
                var key = Marshal.PtrToStringUTF8((nint)keys[i]) ?? string.Empty;
                map[key] = value is null ? string.Empty : TakeAllocatedString(allocator, value);
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                AllocatorFree(allocator, (nint)keys[i]);
            }

            AllocatorFree(allocator, (nint)keys);
        }

        return map;
    }

    /// <summary>A NUL-terminated UTF-8 copy of a string in native memory, freed on dispose.</summary>
    internal readonly struct Utf8 : IDisposable
    {
        public Utf8(string text)
        {
            var length = Encoding.UTF8.GetByteCount(text);
            Pointer = (byte*)NativeMemory.Alloc((nuint)length + 1);
            Encoding.UTF8.GetBytes(text, new Span<byte>(Pointer, length));
            Pointer[length] = 0;
        }

        public byte* Pointer { get; }

        public void Dispose() => NativeMemory.Free(Pointer);
    }
}

/// <summary>Release slots of the handle kinds the SDK owns.</summary>
internal static class OrtRelease
{
    public const int Env = 92;
    public const int MemoryInfo = 94;
    public const int Session = 95;
    public const int Value = 96;
    public const int RunOptions = 97;
    public const int TypeInfo = 98;
    public const int TensorTypeAndShapeInfo = 99;
    public const int SessionOptions = 100;
    public const int ModelMetadata = 118;
    public const int IoBinding = 135;
    public const int TensorRtProviderOptions = 174;
    public const int CudaProviderOptions = 208;
}

/// <summary>
/// Owns one native ONNX Runtime object. The finalizer is the safety net for a forgotten Dispose;
/// SafeHandle's reference counting keeps a handle alive while a native call is using it.
/// </summary>
internal sealed class OrtHandle : SafeHandle
{
    private readonly int _releaseSlot;

    public OrtHandle(nint handle, int releaseSlot)
        : base(0, ownsHandle: true)
    {
        SetHandle(handle);
        _releaseSlot = releaseSlot;
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        OrtApi.Release(_releaseSlot, handle);
        return true;
    }
}

/// <summary>The one process-wide ONNX Runtime environment; ORT expects exactly one.</summary>
internal static class OrtEnvironment
{
    private static readonly Lazy<OrtHandle> Env = new(() =>
        new OrtHandle(OrtLog.CreateEnvironment(), OrtRelease.Env));

    private static readonly Lazy<OrtHandle> CpuMemory = new(() =>
        new OrtHandle(OrtApi.CreateCpuMemoryInfo(), OrtRelease.MemoryInfo));

    public static nint Handle => Env.Value.DangerousGetHandle();

    public static nint CpuMemoryInfo => CpuMemory.Value.DangerousGetHandle();
}
