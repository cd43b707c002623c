using Edge.Testing;

namespace Edge.EndToEnd.Tests;

/// <summary>The built ColourClassifier sample, run as a child process.</summary>
internal static class SamplePlugin
{
    public static string OutputFolder
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "bin", configuration, "net10.0");
        }
    }

    public static string Data(string name) => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", name);

    public static Tool.Result Run(IEnumerable<string> args, IDictionary<string, string?>? environment = null, string? folder = null)
    {
        var env = new Dictionary<string, string?>
        {
            // The tests' own environment must not switch the sample into production mode.
            ["WAGGLE_PLUGIN_HOST"] = null,
            ["WAGGLE_APP_ID"] = null,
            ["PYWAGGLE_LOG_DIR"] = null,
            ["EDGE_ONNXRUNTIME_PATH"] = null,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            env[key] = value;
        }

        return Tool.Run("dotnet", [Path.Combine(folder ?? OutputFolder, "ColourClassifier.dll"), .. args], RepoPaths.Root, env, TimeSpan.FromMinutes(2));
    }
}
