using System.Diagnostics;
using System.Text.RegularExpressions;

namespace EdgePluginNamespace.Tests;

/// <summary>Runs the built program as its own process, the way a node runs it: its command line and, for a function, its MSG contract.</summary>
public sealed class ProgramTests
{
#if (isFunction)
    private const string SampleModel = "models/colour-classifier.onnx";
    private const string SampleImage = "samples/red-apple.jpg";

    [Fact]
    public void Message_PrintsOnlyTheLabel()
    {
        var run = Plugin([], new() { ["MSG"] = $"{{'input': '{SampleImage}', 'model': '{SampleModel}'}}" });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("red", run.Output.Trim());
    }

    [Fact]
    public void MissingMessage_FailsWithUsageExitCode()
    {
        var run = Plugin([], new() { ["MSG"] = null });

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Output);
        Assert.Contains("needs the parameters in the MSG environment variable", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedMessage_FailsNamingWhereItBroke()
    {
        var run = Plugin([], new() { ["MSG"] = $"{{'input': '{SampleImage}'" });

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Output);
        Assert.Contains("MSG is not a JSON object or Python dict", run.Error, StringComparison.Ordinal);
    }
#endif

    [Fact]
    public void ManifestInputs_AreOptionsOfThePlugin()
    {
        var help = Plugin(["--help"]);
        var manifest = File.ReadAllText(Manifest());
        var ids = Regex.Matches(manifest, "\"?id\"?: \"?([A-Za-z0-9_-]+)").Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.Contains($"-{id}", help.Output, StringComparison.Ordinal));
    }

    private static string Manifest()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var name in new[] { "sage.json", "sage.yaml" })
            {
                if (File.Exists(Path.Combine(dir.FullName, name)) && File.Exists(Path.Combine(dir.FullName, "EdgePluginProject.csproj")))
                {
                    return Path.Combine(dir.FullName, name);
                }
            }
        }

        throw new FileNotFoundException("No sage.json or sage.yaml next to EdgePluginProject.csproj above " + AppContext.BaseDirectory);
    }

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    private static Run Plugin(string[] args, Dictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EdgePluginProject.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Development mode whatever the machine: no Waggle variables, no stray MSG.
        foreach (var name in new[] { "WAGGLE_PLUGIN_HOST", "WAGGLE_APP_ID", "MSG" })
        {
            info.Environment.Remove(name);
        }

#if (publisher == "rest")
        // Nothing listens at Publishing:Rest:Url here: keep what the run spools out of the machine-wide default folder.
        info.Environment["Publishing__Rest__Spool__Directory"] = Path.Combine(AppContext.BaseDirectory, "spool");
#endif
        foreach (var (name, value) in environment ?? [])
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the plugin did not finish within 2 minutes");
        }

        return new Run(process.ExitCode, output.Result, error.Result);
    }
}
