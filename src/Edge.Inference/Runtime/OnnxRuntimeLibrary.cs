using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference;

/// <summary>
/// The ONNX Runtime native library this process runs with: which file, which version, which
/// providers it was built with. Edge.Inference opens it before the first model loads; call
/// <see cref="EnsureLoaded"/> to fail at start-up rather than on the first frame.
/// </summary>
public static class OnnxRuntimeLibrary
{
    /// <summary>The environment variable that names the library file or its folder, overriding the runtime package.</summary>
    public const string PathVariable = NativeRuntime.PathVariable;

    /// <summary>The native runtime's version, such as 1.30.0.</summary>
    /// <exception cref="InferenceException">No library was found, or it is older than the managed package.</exception>
    public static string Version => NativeRuntime.Load().VersionText;

    /// <summary>The version of Microsoft.ML.OnnxRuntime.Managed in use: the oldest native library it accepts.</summary>
    public static string ManagedVersion => NativeRuntime.ManagedVersion.ToString(3);

    /// <summary>The full path of the library file in use.</summary>
    public static string LibraryPath => NativeRuntime.Load().Location;

    /// <summary>
    /// Execution providers compiled into the library. A provider listed here may still fail to attach
    /// when its own libraries (CUDA, cuDNN, TensorRT) are missing.
    /// </summary>
    public static IReadOnlyList<string> CompiledProviders
    {
        get
        {
            EnsureLoaded();
            return OrtEnv.Instance().GetAvailableProviders();
        }
    }

    /// <summary>
    /// Opens the library and creates ONNX Runtime's environment, once per process. <paramref name="runtimePath"/>
    /// (a file or folder; <see cref="PathVariable"/> wins over it) chooses a library other than the runtime package's.
    /// Only the first call chooses, and <see cref="Version"/>, <see cref="LibraryPath"/> and loading a model
    /// each count as one; call this first, before any other ONNX Runtime API.
    /// </summary>
    /// <exception cref="InferenceException">No library was found, or it is older than the managed package; the message says what to install.</exception>
    public static void EnsureLoaded(string? runtimePath = null) => _ = NativeRuntime.Load(runtimePath);
}
