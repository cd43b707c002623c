using Edge.Inference.Native;

namespace Edge.Inference;

/// <summary>Facts about the ONNX Runtime native library this process loaded.</summary>
public static class OnnxRuntime
{
    /// <summary>The environment variable that names the library file or its folder, overriding the search.</summary>
    public const string PathVariable = OrtLibrary.PathVariable;

    /// <summary>The runtime's version, such as 1.30.0.</summary>
    /// <exception cref="OnnxRuntimeException">The library could not be found or is too old; the message lists every place tried.</exception>
    public static string Version => OrtLibrary.Load().VersionText;

    /// <summary>The full path of the library that was loaded, or its bare name when the system loader found it.</summary>
    public static string LibraryPath => OrtLibrary.Load().Location;

    /// <summary>
    /// Execution providers compiled into the library. A provider listed here may still fail to load
    /// when its own libraries (CUDA, cuDNN, TensorRT) are missing.
    /// </summary>
    public static IReadOnlyList<string> CompiledProviders => OrtApi.GetAvailableProviders();

    /// <summary>Loads the library now, so a missing runtime fails at start-up rather than on the first frame.</summary>
    public static void EnsureLoaded() => _ = OrtLibrary.Load();
}
