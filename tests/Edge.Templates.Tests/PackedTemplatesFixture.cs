using Edge.Testing;

namespace Edge.Templates.Tests;

/// <summary>
/// Packs the five packages once for the whole test class into a private folder, and installs the
/// template pack into a private template hive, so nothing touches the user's own dotnet new setup.
/// </summary>
public sealed class PackedTemplatesFixture : IDisposable
{
    public PackedTemplatesFixture()
    {
        Root = Directory.CreateTempSubdirectory("edge-templates-").FullName;
        Packages = Path.Combine(Root, "packages");
        Hive = Path.Combine(Root, "hive");
        // --no-restore: the solution is already restored by the test run, and a second restore
        // would rewrite obj/ under the projects the test host is using.
        var pack = Tool.Run("dotnet", ["pack", Path.Combine(RepoPaths.Root, "Sdk.sln"), "-c", "Release", "--no-restore", "-o", Packages], RepoPaths.Root, timeout: TimeSpan.FromMinutes(10));
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed: {pack}");
        }

        var templates = Directory.GetFiles(Packages, "Edge.Templates.*.nupkg").Single();
        var install = Tool.Run("dotnet", ["new", "install", templates, "--debug:custom-hive", Hive], Root);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet new install failed: {install}");
        }
    }

    public string Root { get; }

    public string Packages { get; }

    public string Hive { get; }

    internal Tool.Result New(string template, string name, string output, params string[] options) =>
        Tool.Run("dotnet", ["new", template, "-n", name, "-o", output, "--debug:custom-hive", Hive, .. options], Root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; a failing Dispose would hide the test's own result.
        }
    }
}
