using Edge.Testing;

namespace Edge.Templates.Tests;

public sealed class EdgePluginTemplateTests(PackedTemplatesFixture packed) : IClassFixture<PackedTemplatesFixture>
{
    [Fact]
    public void Pack_WritesTheFivePackages()
    {
        var ids = Directory.GetFiles(packed.Packages, "*.nupkg").Select(f => Path.GetFileName(f)!).Order().ToArray();

        Assert.Equal(
            ["Edge.Inference.0.1.0.nupkg", "Edge.Plugin.Abstractions.0.1.0.nupkg", "Edge.Plugin.Hosting.0.1.0.nupkg", "Edge.Storage.0.1.0.nupkg", "Edge.Templates.0.1.0.nupkg"],
            ids);
    }

    [Fact]
    public void EdgePlugin_InstantiatesBuildsAgainstLocalPackagesAndClassifies()
    {
        var project = Path.Combine(packed.Root, "mask-plugin");
        var created = packed.New("edge-plugin", "Mask.Classifier", project, "--skip-restore");
        Assert.True(created.ExitCode == 0, created.ToString());
        LocalFeed.WriteConfig(project, packed.Packages);

        var build = Tool.Run("dotnet", ["build", "-warnaserror", "-c", "Release"], project, timeout: TimeSpan.FromMinutes(10));
        Assert.True(build.ExitCode == 0, build.ToString());
        // The Edge packages must have come from the fresh pack, not from anywhere else.
        Assert.True(Directory.Exists(Path.Combine(project, ".packages", "edge.plugin.hosting", "0.1.0")), "Edge.Plugin.Hosting was not restored from the local pack");

        var image = Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "red-apple.jpg");
        var run = Tool.Run("dotnet", [Path.Combine(project, "bin", "Release", "net10.0", "Mask.Classifier.dll"), "-input", image, "-model", RepoPaths.Model("colour-classifier.onnx")], project);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("env.classification: red (confidence=", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void EdgePlugin_ManifestAndImageNamesAreLowerCase()
    {
        var project = Path.Combine(packed.Root, "names");
        var created = packed.New("edge-plugin", "My.Cool_Plugin", project, "--skip-restore");
        Assert.True(created.ExitCode == 0, created.ToString());

        var manifest = File.ReadAllText(Path.Combine(project, "sage.json"));

        Assert.Contains("\"name\": \"my-cool-plugin\"", manifest, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"My.Cool_Plugin.dll\"]", File.ReadAllText(Path.Combine(project, "Dockerfile")), StringComparison.Ordinal);
    }

    [Fact]
    public void EdgePlugin_HelpListsTheParameters()
    {
        var help = Tool.Run("dotnet", ["new", "edge-plugin", "--help", "--debug:custom-hive", packed.Hive], packed.Root);

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--sdk-version", help.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--skip-restore", help.StandardOutput, StringComparison.Ordinal);
    }
}
