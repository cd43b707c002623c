
namespace Edge.Inference;

/// <summary>
/// Finds the library a GPU provider really lacks. ONNX Runtime reports only that its provider library
/// failed to load; opening that library ourselves gets the loader's own answer, which names the first
/// missing dependency (<c>libcublasLt.so.13: cannot open shared object file</c>).
/// </summary>
internal static class ProviderLibraries
{
    public static (string Library, string Detail)? MissingDependency(ResolvedProvider provider)
    {
        var file = provider.Kind switch
        {
            ProviderKind.Cuda => "libonnxruntime_providers_cuda.so",
            ProviderKind.TensorRt => "libonnxruntime_providers_tensorrt.so",
            _ => null,
        };
        // Only a library whose file we know has a folder to look for its provider libraries in.
        if (file is null || !OperatingSystem.IsLinux() || !Path.IsPathRooted(OnnxRuntimeLibrary.LibraryPath))
        {
            return null;
        }

        var folder = Path.GetDirectoryName(OnnxRuntimeLibrary.LibraryPath)!;
        var path = Path.Combine(folder, file);
        if (!File.Exists(path))
        {
            return (file, $"{path} does not exist");
        }

        // Provider libraries link against this one by name; ORT has loaded it already, but only by path.
        var shared = Path.Combine(folder, "libonnxruntime_providers_shared.so");
        var sharedHandle = File.Exists(shared) && NativeRuntime.TryOpen(shared, out var h, out _) ? h : 0;
        try
        {
            if (NativeRuntime.TryOpen(path, out var handle, out var error))
            {
                System.Runtime.InteropServices.NativeLibrary.Free(handle);
                return null;
            }

            return (FirstLibraryNamed(error) ?? file, $"opening {path}: {error}");
        }
        finally
        {
            if (sharedHandle != 0)
            {
                System.Runtime.InteropServices.NativeLibrary.Free(sharedHandle);
            }
        }
    }

    /// <summary>The library dlerror names: "libcublasLt.so.13: cannot open shared object file: ...".</summary>
    internal static string? FirstLibraryNamed(string loaderError)
    {
        var marker = loaderError.IndexOf(": cannot open shared object file", StringComparison.Ordinal);
        if (marker <= 0)
        {
            return null;
        }

        var start = loaderError.LastIndexOfAny([' ', '/', ':'], marker - 1) + 1;
        return loaderError[start..marker];
    }
}
