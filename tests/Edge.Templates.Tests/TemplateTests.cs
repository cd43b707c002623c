using System.Text.RegularExpressions;
using Edge.Plugin.Hosting.Manifest;
using Edge.Testing;

namespace Edge.Templates.Tests;

/// <summary>
/// Each template, created in a private hive and built with warnings as errors against the freshly
/// packed Edge.* packages; its own tests run and the plugin runs in development mode on the sample.
/// </summary>
[Collection(PackedTemplatesCollection.Name)]
public sealed class TemplateTests(PackedTemplatesFixture packed)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);

    private static Tool.Result Dotnet(string directory, params string[] args) => Tool.Run("dotnet", args, directory, Development, Long);

    private static readonly Dictionary<string, string?> Development = new() { ["WAGGLE_PLUGIN_HOST"] = null, ["WAGGLE_APP_ID"] = null, ["MSG"] = null };

    private static void Succeeded(Tool.Result result) => Assert.True(result.ExitCode == 0, result.ToString());

    private static string Read(string project, string file) => File.ReadAllText(Path.Combine(project, file));

    [Fact]
    public void Pack_WritesTheFivePackages()
    {
        var ids = Directory.GetFiles(packed.Packages, "*.nupkg").Select(f => Path.GetFileName(f)!).Order().ToArray();

        Assert.Equal(
            ["Edge.Inference.0.1.0.nupkg", "Edge.Plugin.Abstractions.0.1.0.nupkg", "Edge.Plugin.Hosting.0.1.0.nupkg", "Edge.Storage.0.1.0.nupkg", "Edge.Templates.0.1.0.nupkg"],
            ids);
    }

    [Fact]
    public void EdgePlugin_BuildsPassesItsTestsAndClassifiesTheSample()
    {
        var project = packed.Create("edge-plugin", "Mask.Classifier");

        Succeeded(Dotnet(project, "build", "-warnaserror", "-c", "Release"));
        // The Edge packages must have come from the fresh pack, not from anywhere else.
        Assert.True(Directory.Exists(Path.Combine(project, ".packages", "edge.plugin.hosting", "0.1.0")), "Edge.Plugin.Hosting was not restored from the local pack");
        var run = Dotnet(project, Path.Combine("bin", "Release", "net10.0", "Mask.Classifier.dll"), "-top", "2");
        var tests = Dotnet(project, "test", Path.Combine("tests", "Mask.Classifier.Tests"));

        Succeeded(run);
        Assert.Matches(@"^env\.classification: red \(confidence=0\.9\d\d, input=red-apple\.jpg\)\nenv\.classification: \w+ ", run.StandardOutput);
        Succeeded(tests);
        Assert.Contains("Passed!  - Failed:     0, Passed:     3", tests.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(SageManifest.ValidateFile(Path.Combine(project, "sage.json")));
    }

    [Fact]
    public void EdgePipeline_WithYamlArm64AndAnOddName_BuildsPassesItsTestsAndWritesTheResultFile()
    {
        var project = packed.Create("edge-pipeline", "1st.pipeline", "--manifest", "yaml", "--arch", "arm64", "--publisher", "rest");

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        var run = Dotnet(project, Path.Combine("bin", "Debug", "net10.0", "1st.pipeline.dll"));
        var tests = Dotnet(project, "test", Path.Combine("tests", "1st.pipeline.Tests"));

        Succeeded(run);
        Assert.StartsWith("pipeline.classification: red (confidence=", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"Label\": \"red\"", Read(project, Path.Combine("output", "red-apple.json")), StringComparison.Ordinal);
        Succeeded(tests);
        Assert.Contains("namespace _1st.pipeline;", Read(project, "Classifier.cs"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(project, "sage.json")));
        var manifest = Read(project, "sage.yaml");
        Assert.Contains("name: 1st-pipeline\n", manifest, StringComparison.Ordinal);
        Assert.Contains("  architectures:\n    - linux/arm64\n  url:", manifest, StringComparison.Ordinal);
        Assert.Empty(SageManifest.ValidateFile(Path.Combine(project, "sage.yaml")));
        Assert.Contains("\"Publisher\": \"rest\"", Read(project, "appsettings.json"), StringComparison.Ordinal);
        Assert.Contains("--platform linux/arm64 -t 1st-pipeline:0.1.0", Read(project, "Dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void EdgeFunction_WithGpuAndNoTests_PrintsOnlyTheLabelFromMsg()
    {
        var project = packed.Create("edge-function", "my-function", "--tests", "false", "--gpu");

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        var dll = Path.Combine(project, "bin", "Debug", "net10.0", "my-function.dll");
        var run = Tool.Run("dotnet", [dll], project, new Dictionary<string, string?> { ["MSG"] = "{'input': 'samples/red-apple.jpg'}" }, Long);
        var bad = Tool.Run("dotnet", [dll], project, new Dictionary<string, string?> { ["MSG"] = "{'input': [1]}" }, Long);

        Succeeded(run);
        Assert.Equal("red\n", run.StandardOutput);
        Assert.Equal(2, bad.ExitCode);
        Assert.Empty(bad.StandardOutput);
        Assert.Contains("MSG key 'input' must have a single value", bad.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(project, "tests")));
        Assert.False(File.Exists(Path.Combine(project, "k8s", "deployment.yaml")));
        Assert.Contains("FROM --platform=$TARGETPLATFORM ${CUDA_IMAGE} AS final", Read(project, "Dockerfile"), StringComparison.Ordinal);
        Assert.Contains("nvidia.com/gpu: 1", Read(project, Path.Combine("k8s", "job.yaml")), StringComparison.Ordinal);
        Assert.Contains("\"ExecutionProvider\": \"cuda\"", Read(project, "appsettings.json"), StringComparison.Ordinal);
    }

    [Fact]
    public void EdgePlugin_BuildFailsOnAManifestEcrWouldRefuse_NamingFieldAndRule()
    {
        var project = packed.Create("edge-plugin", "bad-manifest", "--tests", "false");
        File.WriteAllText(Path.Combine(project, "sage.json"), Read(project, "sage.json").Replace("\"version\": \"0.1.0\"", "\"version\": \"v1\"", StringComparison.Ordinal));

        var build = Dotnet(project, "build");

        Assert.NotEqual(0, build.ExitCode);
        Assert.Contains("sage.json : error EDGE0001: version: must be MAJOR.MINOR.PATCH", build.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("My.Cool_Plugin", "my-cool-plugin", "My.Cool_Plugin")]
    [InlineData("my-plugin", "my-plugin", "my_plugin")]
    [InlineData("1st.plugin", "1st-plugin", "_1st.plugin")]
    [InlineData("Über..Plugin-", "ber-plugin", "_ber.Plugin_")]
    public void Names_HaveLowerCaseImageAndManifestFormsAndACSharpNamespace(string name, string image, string ns)
    {
        var project = packed.Create("edge-plugin", name, "--tests", "false");

        Assert.Contains($"\"name\": \"{image}\"", Read(project, "sage.json"), StringComparison.Ordinal);
        Assert.Contains($"image: {image}:0.1.0", Read(project, Path.Combine("k8s", "deployment.yaml")), StringComparison.Ordinal);
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{name}.dll\"]", Read(project, "Dockerfile"), StringComparison.Ordinal);
        Assert.Contains($"namespace {ns};", Read(project, "Classifier.cs"), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(project, name + ".csproj")));
        Assert.Empty(SageManifest.ValidateFile(Path.Combine(project, "sage.json")));
    }

    [Theory]
    [InlineData("edge-plugin")]
    [InlineData("edge-pipeline")]
    [InlineData("edge-function")]
    public void Help_DocumentsEveryParameter(string template)
    {
        var help = Tool.Run("dotnet", ["new", template, "--help", "--debug:custom-hive", packed.Hive], packed.Root);

        Succeeded(help);
        foreach (var option in new[] { "--model", "--input", "--publisher", "--gpu", "--arch", "--manifest", "--tests", "--skip-restore", "--sdk-version" })
        {
            Assert.Matches(new Regex($"^  {Regex.Escape(option)}\\b", RegexOptions.Multiline), help.StandardOutput);
        }
    }

    [Fact]
    public void Architectures_FlowIntoManifestAndDockerfile()
    {
        var amd64 = packed.Create("edge-plugin", "amd-only", "--tests", "false", "--arch", "amd64");
        var both = packed.Create("edge-plugin", "both", "--tests", "false", "--manifest", "yaml");

        Assert.Matches("\"architectures\": \\[\\s*\"linux/amd64\"\\s*\\]", Read(amd64, "sage.json"));
        Assert.Contains("--platform linux/amd64 -t amd-only:0.1.0", Read(amd64, "Dockerfile"), StringComparison.Ordinal);
        Assert.Contains("  architectures:\n    - linux/amd64\n    - linux/arm64\n", Read(both, "sage.yaml"), StringComparison.Ordinal);
        Assert.Contains("--platform linux/amd64,linux/arm64 -t both:0.1.0", Read(both, "Dockerfile"), StringComparison.Ordinal);
    }
}
