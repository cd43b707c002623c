using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Edge.Inference.Native;

/// <summary>
/// Finds and opens the ONNX Runtime shared library. The order is fixed and documented so that a
/// plugin on a remote node can be told exactly which file it ran with: an explicit override,
/// the application folder, the NuGet <c>runtimes/&lt;rid&gt;/native</c> layout, then the system loader.
/// </summary>
internal static class OrtLibrary
{
    public const string PathVariable = "EDGE_ONNXRUNTIME_PATH";

    /// <summary>The oldest runtime whose C API has every slot this binding calls.</summary>
    public static readonly Version MinimumVersion = new(1, 17, 0);

    /// <summary>The API version requested from <c>OrtGetApiBase()->GetApi</c>.</summary>
    public const uint ApiVersion = 17;

    private static readonly Lock Gate = new();
    private static LoadedRuntime? s_loaded;

    public static LoadedRuntime Load()
    {
        if (s_loaded is { } loaded)
        {
            return loaded;
        }

        lock (Gate)
        {
            s_loaded ??= Load(ProbeCandidates(Environment.GetEnvironmentVariable(PathVariable), AppContext.BaseDirectory));
            return s_loaded;
        }
    }

    internal static string[] LibraryFileNames()
    {
        if (OperatingSystem.IsWindows())
        {
            return ["onnxruntime.dll"];
        }

        return OperatingSystem.IsMacOS()
            ? ["libonnxruntime.dylib"]
            : ["libonnxruntime.so.1", "libonnxruntime.so"];
    }

    internal static string RuntimeIdentifier()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.X86 => "x86",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{os}-{arch}";
    }

    /// <summary>Every place a library is looked for, in order. A set override is the only candidate.</summary>
    internal static IReadOnlyList<Candidate> ProbeCandidates(string? overridePath, string appFolder)
    {
        var names = LibraryFileNames();
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            // An explicit override that silently fell through to another copy would hide the very
            // mistake it exists to fix, so it is the only candidate.
            return Directory.Exists(overridePath)
                ? [.. names.Select(n => new Candidate($"{PathVariable} folder", Path.Combine(overridePath, n), IsPath: true))]
                : [new Candidate(PathVariable, overridePath, IsPath: true)];
        }

        var list = new List<Candidate>();
        list.AddRange(names.Select(n => new Candidate("app folder", Path.Combine(appFolder, n), IsPath: true)));
        var nativeFolder = Path.Combine(appFolder, "runtimes", RuntimeIdentifier(), "native");
        list.AddRange(names.Select(n => new Candidate("runtimes folder", Path.Combine(nativeFolder, n), IsPath: true)));
        list.AddRange(names.Select(n => new Candidate("system loader", n, IsPath: false)));
        return list;
    }

    internal static LoadedRuntime Load(IReadOnlyList<Candidate> candidates)
    {
        var tried = new StringBuilder();
        foreach (var candidate in candidates)
        {
            if (candidate.IsPath && !File.Exists(candidate.Location))
            {
                tried.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {candidate.Source}: {candidate.Location} (no such file)");
                continue;
            }

            if (!NativeLibrary.TryLoad(candidate.Location, out var handle))
            {
                tried.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {candidate.Source}: {candidate.Location} (could not be loaded: {LastLoadError(candidate.Location)})");
                continue;
            }

            if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getApiBase))
            {
                NativeLibrary.Free(handle);
                tried.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {candidate.Source}: {candidate.Location} (loaded, but it exports no OrtGetApiBase: not ONNX Runtime)");
                continue;
            }

            return Bind(handle, getApiBase, candidate);
        }

        throw new OnnxRuntimeException(
            OrtErrorCode.NoSuchFile,
            "The ONNX Runtime native library could not be found. Places tried, in order:" + tried +
            $"{Environment.NewLine}Set {PathVariable} to the library file or its folder, or install the runtime (see docs/inference.md).");
    }

    private static unsafe LoadedRuntime Bind(nint handle, nint getApiBase, Candidate candidate)
    {
        var apiBase = ((delegate* unmanaged<OrtApiBase*>)getApiBase)();
        var versionText = Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)apiBase->GetVersionString)()) ?? "unknown";
        var location = candidate.IsPath ? Path.GetFullPath(candidate.Location) : candidate.Location;
        if (!TryParseVersion(versionText, out var version) || version < MinimumVersion)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.NotImplemented,
                $"ONNX Runtime at {location} reports version {versionText}; this SDK needs {MinimumVersion} or newer. Set {PathVariable} to a newer library (see docs/inference.md).");
        }

        var api = ((delegate* unmanaged<uint, nint*>)apiBase->GetApi)(ApiVersion);
        if (api is null)
        {
            throw new OnnxRuntimeException(
                OrtErrorCode.NotImplemented,
                $"ONNX Runtime {versionText} at {location} does not offer C API version {ApiVersion}.");
        }

        return new LoadedRuntime(handle, api, version, versionText, location);
    }

    internal static bool TryParseVersion(string text, out Version version)
    {
        var core = text.Split('-', '+')[0];
        if (Version.TryParse(core, out var parsed))
        {
            version = parsed;
            return true;
        }

        version = new Version(0, 0);
        return false;
    }

    private static string LastLoadError(string location)
    {
        // NativeLibrary swallows dlerror(); asking the OS again gives the reason a person can act on.
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(location));
            return "unknown reason";
        }
        catch (DllNotFoundException e)
        {
            // Keep the loader's own words (dlerror), not the runtime's advice wrapped around them.
            var message = e.Message.Replace(Environment.NewLine, " ", StringComparison.Ordinal);
            var marker = message.LastIndexOf("environment variable:", StringComparison.Ordinal);
            return (marker >= 0 ? message[(marker + "environment variable:".Length)..] : message).Trim();
        }
        catch (BadImageFormatException e)
        {
            return e.Message;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OrtApiBase
    {
        public nint GetApi;
        public nint GetVersionString;
    }

    internal readonly record struct Candidate(string Source, string Location, bool IsPath);
}

/// <summary>An opened runtime: its function table and where it came from.</summary>
internal sealed unsafe class LoadedRuntime(nint handle, nint* api, Version version, string versionText, string location)
{
    public nint Handle { get; } = handle;

    public nint* Api { get; } = api;

    public Version Version { get; } = version;

    public string VersionText { get; } = versionText;

    public string Location { get; } = location;
}
