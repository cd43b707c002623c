using Edge.Testing;

namespace Edge.Templates.Tests;

/// <summary>Every template test shares one pack, one private hive and one machine-wide restore cache.</summary>
[CollectionDefinition(Name)]
public sealed class PackedTemplatesCollection : ICollectionFixture<PackedTemplatesFixture>
{
    public const string Name = "packed templates";
}

/// <summary>
/// Packs the five packages once for the whole test run into a private folder, and installs the
/// template pack into a private template hive, so nothing touches the user's own dotnet new setup.
/// </summary>
public sealed class PackedTemplatesFixture : IDisposable
{
    public PackedTemplatesFixture()
    {
        Root = Directory.CreateTempSubdirectory("edge-templates-").FullName;
        Packages = Path.Combine(Root, "packages");
        Hive = Path.Combine(Root, "hive");
        // The template pack is the one project the test build does not restore; restoring the others
        // again would rewrite obj/ under the projects the test host is using, hence --no-restore below.
        var restore = Tool.Run("dotnet", ["restore", Path.Combine(RepoPaths.Root, "src", "Edge.Templates")], RepoPaths.Root, timeout: TimeSpan.FromMinutes(5));
        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet restore of the template pack failed: {restore}");
        }

        var pack = Tool.Run("dotnet", ["pack", Path.Combine(RepoPaths.Root, "Sdk.sln"), "-c", "Release", "--no-restore", "-o", Packages], RepoPaths.Root, timeout: TimeSpan.FromMinutes(10));
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed: {pack}");
        }

        var templates = Directory.GetFiles(Packages, "Edge.Templates.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(templates)["Edge.Templates.".Length..];
        var install = Tool.Run("dotnet", ["new", "install", templates, "--debug:custom-hive", Hive], Root);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet new install failed: {install}");
        }
    }

    public string Root { get; }

    public string Packages { get; }

    public string Hive { get; }

    /// <summary>The version every package was packed at, which git gives (MinVer).</summary>
    public string Version { get; }

    internal Tool.Result New(string template, string name, string output, params string[] options) =>
        Tool.Run("dotnet", ["new", template, "-n", name, "-o", output, "--debug:custom-hive", Hive, .. options], Root);

    /// <summary>Creates a project with the restore left to the build, against the fresh pack only.</summary>
    internal string Create(string template, string name, params string[] options)
    {
        var project = Path.Combine(Root, $"{template}-{Guid.NewGuid():N}"[..24]);
        var created = New(template, name, project, ["--skip-restore", .. options]);
        if (created.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet new {template} failed: {created}");
        }

        LocalFeed.WriteConfig(project, Packages);
        return project;
    }

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
