namespace Edge.Inference.Native;

// Sequences, maps and optionals, and the rest of IO binding. Slot numbers were checked with
// offsetof(OrtApi, member) / sizeof(void*) against onnxruntime_c_api.h (API 29). All are at or
// below 216 except HasValue (192) and the optional-type pair (250, 251, "since 1.15"), all within
// OrtLibrary.MinimumVersion (1.17).
internal static unsafe partial class OrtApi
{
    /// <summary>Slot 80: element <paramref name="index"/> of a sequence, or a map's keys (0) / values (1); the caller owns it.</summary>
    public static nint GetValue(nint value, int index)
    {
        nint element;
        Check(((delegate* unmanaged<nint, int, nint, nint*, nint>)Slot(80))(value, index, GetDefaultAllocator(), &element));
        return element;
    }

    /// <summary>Slot 81: elements in a sequence; 2 for a map.</summary>
    public static int GetValueCount(nint value)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(81))(value, &count));
        return checked((int)count);
    }

    /// <summary>Slot 82: a sequence (type 2) of the values, or a map (type 3) from [keys, values]. ORT copies the data.</summary>
    public static nint CreateValue(nint* values, int count, int onnxType)
    {
        nint value;
        Check(((delegate* unmanaged<nint*, nuint, int, nint*, nint>)Slot(82))(values, (nuint)count, onnxType, &value));
        return value;
    }

    /// <summary>Slot 192: false for an optional output that holds nothing.</summary>
    public static bool HasValue(nint value)
    {
        int result;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(192))(value, &result));
        return result != 0;
    }

    /// <summary>Slot 104; borrowed from the type info.</summary>
    public static nint CastToSequenceInfo(nint typeInfo) => Cast(typeInfo, 104);

    /// <summary>Slot 103; borrowed from the type info.</summary>
    public static nint CastToMapInfo(nint typeInfo) => Cast(typeInfo, 103);

    /// <summary>Slot 250; borrowed from the type info.</summary>
    public static nint CastToOptionalInfo(nint typeInfo) => Cast(typeInfo, 250);

    /// <summary>Slot 105.</summary>
    public static TensorElementType GetMapKeyType(nint mapInfo)
    {
        int type;
        Check(((delegate* unmanaged<nint, int*, nint>)Slot(105))(mapInfo, &type));
        return (TensorElementType)type;
    }

    /// <summary>Slot 106: a new type info, released with <see cref="OrtRelease.TypeInfo"/>.</summary>
    public static nint GetMapValueType(nint mapInfo) => Cast(mapInfo, 106);

    /// <summary>Slot 107: a new type info, released with <see cref="OrtRelease.TypeInfo"/>.</summary>
    public static nint GetSequenceElementType(nint sequenceInfo) => Cast(sequenceInfo, 107);

    /// <summary>Slot 251: a new type info, released with <see cref="OrtRelease.TypeInfo"/>.</summary>
    public static nint GetOptionalContainedType(nint optionalInfo) => Cast(optionalInfo, 251);

    private static nint Cast(nint from, int slot)
    {
        nint to;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(slot))(from, &to));
        return to;
    }

    // --- IO binding --------------------------------------------------------------------------

    /// <summary>Slot 138: the runtime allocates the output on the device of <paramref name="memoryInfo"/> at each run.</summary>
    public static void BindOutputToDevice(nint binding, byte* name, nint memoryInfo) =>
        Check(((delegate* unmanaged<nint, byte*, nint, nint>)Slot(138))(binding, name, memoryInfo));

    /// <summary>Slot 140: the bound outputs after a run, in binding order; each is owned by the caller.</summary>
    public static nint[] GetBoundOutputValues(nint binding)
    {
        nint* values;
        nuint count;
        var allocator = GetDefaultAllocator();
        Check(((delegate* unmanaged<nint, nint, nint**, nuint*, nint>)Slot(140))(binding, allocator, &values, &count));
        if (values is null)
        {
            return [];
        }

        var result = new nint[(int)count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = values[i];
        }

        AllocatorFree(allocator, (nint)values);
        return result;
    }

    /// <summary>Slots 141 and 142 (no status).</summary>
    public static void ClearBound(nint binding, bool inputs) =>
        ((delegate* unmanaged<nint, void>)Slot(inputs ? 141 : 142))(binding);
}
