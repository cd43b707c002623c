using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference;

/// <summary>
/// Opens the ONNX Runtime native library before the managed package first touches it, so that a
/// plugin on a remote node says exactly which file it runs with, and why a file was refused. By default
/// the runtime package the application references (Microsoft.ML.OnnxRuntime, .Gpu.Linux) provides it;
/// <c>EDGE_ONNXRUNTIME_PATH</c> or <c>Inference:RuntimePath</c> picks another build, such as a JetPack one.
/// </summary>
internal static class NativeRuntime
{
    public const string PathVariable = "EDGE_ONNXRUNTIME_PATH";

    /// <summary>The name the managed package's P/Invokes ask for.</summary>
    private const string ImportName = "onnxruntime";

    private static readonly Lock Gate = new();
    private static LoadedRuntime? s_loaded;

    /// <summary>The managed package's version: the oldest native library it accepts.</summary>
    public static Version ManagedVersion { get; } = ReadManagedVersion(typeof(OrtEnv).Assembly);

    public static LoadedRuntime Load(string? configuredPath = null)
    {
        if (s_loaded is { } loaded)
        {
            return loaded;
        }

        lock (Gate)
        {
            if (s_loaded is not null)
            {
                return s_loaded;
            }

            var explicitPath = Environment.GetEnvironmentVariable(PathVariable);
            var source = PathVariable;
            if (string.IsNullOrWhiteSpace(explicitPath))
            {
                explicitPath = configuredPath;
                source = "Inference:RuntimePath";
            }

            var runtime = string.IsNullOrWhiteSpace(explicitPath)
                ? OpenFromPackage()
                : Open(Candidates(explicitPath, source));
            try
            {
                Check(runtime, ManagedVersion);
                Install(runtime, explicitPath is { Length: > 0 });
            }
            catch
            {
                // A refused library must not stay mapped beside whichever one a retry picks; no resolver
                // hands it out yet, since Install throws only where it could not set one.
                NativeLibrary.Free(runtime.Handle);
                throw;
            }

            try
            {
                OrtLog.CreateEnvironment();
            }
            catch (OnnxRuntimeException e)
            {
                throw new InferenceException($"ONNX Runtime {runtime.VersionText} at {runtime.Location} could not create its environment: {OrtLog.Shorten(e.Message)}", e);
            }

            s_loaded = runtime;
            return runtime;
        }
    }

    /// <summary>The files an explicit setting names: the file itself, or the library's names in a folder.</summary>
    internal static IReadOnlyList<(string Source, string Path)> Candidates(string setting, string source)
    {
        // An explicit choice that silently fell through to another copy would hide the very mistake it
        // exists to fix, so nothing else is tried.
        return Directory.Exists(setting)
            ? [.. LibraryFileNames().Select(n => ($"{source} folder", Path.Combine(setting, n)))]
            : [(source, setting)];
    }

    internal static string[] LibraryFileNames() =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so", "libonnxruntime.so.1"];

    internal static LoadedRuntime Open(IReadOnlyList<(string Source, string Path)> candidates)
    {
        var tried = new StringBuilder();
        foreach (var (source, path) in candidates)
        {
            if (!File.Exists(path))
            {
                tried.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {source}: {path} (no such file)");
                continue;
            }

            if (!TryOpen(path, out var handle, out var error))
            {
                tried.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {source}: {path} (could not be loaded: {error})");
                continue;
            }

            return Describe(handle, Path.GetFullPath(path), source);
        }

        throw new InferenceException(
            "The ONNX Runtime native library could not be opened. Tried:" + tried +
            $"{Environment.NewLine}Point {PathVariable} (or Inference:RuntimePath) at libonnxruntime.so or its folder, or unset it to use the runtime package the application references.");
    }

    private static LoadedRuntime OpenFromPackage()
    {
        // The same probe the managed package's own P/Invokes make: the app folder, then the
        // runtimes/<rid>/native folders its deps.json lists, then the system loader.
        try
        {
            var handle = NativeLibrary.Load(ImportName, typeof(OrtEnv).Assembly, null);
            return Describe(handle, MappedPath(handle) ?? "libonnxruntime (found by the system loader)", "runtime package");
        }
        catch (DllNotFoundException e)
        {
            throw new InferenceException(
                "No ONNX Runtime native library is in this application. Reference a runtime package: " +
                $"Microsoft.ML.OnnxRuntime (CPU, linux-x64 and linux-arm64) or Microsoft.ML.OnnxRuntime.Gpu.Linux (CUDA 13, linux-x64), {ManagedVersion.ToString(3)} or newer; " +
                $"or point {PathVariable} at a libonnxruntime.so you installed (a JetPack build on a Jetson). The loader said: {LoaderWords(e.Message)}",
                e);
        }
    }

    /// <summary>Refuses a library older than the managed package, which would fail later with a bare "API version" error.</summary>
    internal static void Check(LoadedRuntime runtime, Version managed)
    {
        var install = $"Install ONNX Runtime {managed.Major}.{managed.Minor} or newer: the Microsoft.ML.OnnxRuntime or Microsoft.ML.OnnxRuntime.Gpu.Linux package, or (on a Jetson) a JetPack build at {PathVariable}.";
        if (runtime.Version < new Version(managed.Major, managed.Minor, 0))
        {
            throw new InferenceException(
                $"ONNX Runtime at {runtime.Location} ({runtime.Source}) is version {runtime.VersionText}, older than Microsoft.ML.OnnxRuntime.Managed {managed.ToString(3)} in this application, which needs native {managed.Major}.{managed.Minor} or newer. {install}");
        }

        // ONNX Runtime 1.x numbers its C API by the minor version, and the managed package asks for its own.
        if (managed.Major == 1 && !runtime.OffersApi((uint)managed.Minor))
        {
            throw new InferenceException(
                $"ONNX Runtime at {runtime.Location} ({runtime.Source}) is version {runtime.VersionText} but does not offer C API version {managed.Minor}, which Microsoft.ML.OnnxRuntime.Managed {managed.ToString(3)} in this application asks for. {install}");
        }
    }

    private static void Install(LoadedRuntime runtime, bool isExplicit)
    {
        // Our resolver hands the managed package the library checked above; its own resolver would probe again.
        OrtEnv.DisableDllImportResolver = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly, (name, _, _) => name == ImportName ? runtime.Handle : 0);
        }
        catch (InvalidOperationException) when (!isExplicit)
        {
            // Something set a resolver first: the managed package itself, when ORT was used before
            // Edge.Inference. It probes the same runtime package folders we did, so the file named
            // here is, in all but odd layouts, the one it found; an explicit choice it cannot honour.
        }
        catch (InvalidOperationException e)
        {
            throw new InferenceException(
                $"{runtime.Location} was chosen through {runtime.Source}, but ONNX Runtime's managed package was already in use, with a library of its own choosing. " +
                "Load models through Edge.Inference (or call OnnxRuntimeLibrary.EnsureLoaded) before any other ONNX Runtime call.",
                e);
        }
    }

    private static unsafe LoadedRuntime Describe(nint handle, string location, string source)
    {
        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getApiBase))
        {
            throw new InferenceException($"{location} ({source}) loaded, but it exports no OrtGetApiBase: it is not ONNX Runtime.");
        }

        var apiBase = ((delegate* unmanaged<OrtApiBase*>)getApiBase)();
        var text = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)apiBase->GetVersionString)()) ?? "unknown";
        return new LoadedRuntime(handle, (nint)apiBase, ParseVersion(text), text, location, source);
    }

    /// <summary>Three parts always ("1.30" is 1.30.0), so that comparisons do not refuse a bare major.minor.</summary>
    internal static Version ParseVersion(string text) =>
        Version.TryParse(text.Split('-', '+')[0], out var version)
            ? new Version(version.Major, version.Minor, Math.Max(version.Build, 0))
            : new Version(0, 0, 0);

    private static Version ReadManagedVersion(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var version = informational is null ? new Version(0, 0) : ParseVersion(informational);
        return version.Major > 0 || version.Minor > 0 ? version : assembly.GetName().Version ?? new Version(0, 0);
    }

    /// <summary>Opens a file, keeping the loader's own reason (dlerror) when it fails.</summary>
    internal static bool TryOpen(string path, out nint handle, out string error)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            error = string.Empty;
            return true;
        }
        catch (DllNotFoundException e)
        {
            handle = 0;
            error = LoaderWords(e.Message);
            return false;
        }
        catch (BadImageFormatException e)
        {
            handle = 0;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Keeps dlerror's sentence, dropping the runtime's advice wrapped around it.</summary>
    internal static string LoaderWords(string message)
    {
        var text = message.Replace(Environment.NewLine, " ", StringComparison.Ordinal);
        var marker = text.LastIndexOf("environment variable:", StringComparison.Ordinal);
        return (marker >= 0 ? text[(marker + "environment variable:".Length)..] : text).Trim();
    }

    /// <summary>Where the system loader found the library: the file mapped into this process.</summary>
    private static string? MappedPath(nint handle)
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var symbol))
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                // "start-end perms offset dev inode path"
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6)
                {
                    continue;
                }

                var range = fields[0].Split('-');
                if (range.Length == 2
                    && ulong.TryParse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                    && ulong.TryParse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end)
                    && (ulong)symbol >= start && (ulong)symbol < end)
                {
                    // A file replaced on disk since it was mapped reads "path (deleted)".
                    var path = fields[5].Trim();
                    return path.EndsWith(" (deleted)", StringComparison.Ordinal) ? path[..^" (deleted)".Length] : path;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OrtApiBase
    {
        public nint GetApi;
        public nint GetVersionString;
    }

    /// <summary>An opened runtime and where it came from.</summary>
    internal sealed unsafe class LoadedRuntime(nint handle, nint apiBase, Version version, string versionText, string location, string source)
    {
        public nint Handle { get; } = handle;

        public Version Version { get; } = version;

        public string VersionText { get; } = versionText;

        public string Location { get; } = location;

        public string Source { get; } = source;

        /// <summary>Whether the library serves a C API version, as the managed package will ask it to.</summary>
        public bool OffersApi(uint apiVersion) =>
            ((delegate* unmanaged<uint, nint>)((OrtApiBase*)apiBase)->GetApi)(apiVersion) != 0;
    }
}
