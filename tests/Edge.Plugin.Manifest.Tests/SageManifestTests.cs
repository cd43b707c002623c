using System.Text;
using Edge.Plugin.Manifest;

namespace Edge.Plugin.Manifest.Tests;

public sealed class SageManifestTests
{
    private const string Valid = """
        {
          "name": "mask-classifier",
          "version": "0.1.0",
          "description": "Classifies masks.",
          "namespace": "waggle",
          "keywords": "ml, onnx",
          "source": {
            "architectures": ["linux/amd64", "linux/arm64"],
            "url": "https://github.com/example/mask-classifier",
            "branch": "main",
            "directory": ".",
            "dockerfile": "Dockerfile",
            "build_args": {}
          },
          "inputs": [
            { "id": "input", "type": "string", "description": "Where frames come from.", "default": "bottom_camera" },
            { "id": "interval", "type": "float", "description": "Seconds between frames.", "default": "0" },
            { "id": "top", "type": "int", "description": "Labels to publish.", "default": 1 },
            { "id": "verbose", "type": "boolean", "description": "Debug logging.", "default": "false" }
          ],
          "metadata": {}
        }
        """;

    private const string ValidYaml = """
        # sage.yaml as the ECR portal writes it
        name: mask-classifier
        version: "0.1.0"
        description: "Classifies masks: with or without."
        keywords: ml, onnx
        source:
          architectures:
          - linux/amd64
          - "linux/arm64"
          url: https://github.com/example/mask-classifier
          branch: main
          directory: .
          dockerfile: Dockerfile
          build_args: {}
        inputs:
          - id: input
            type: string
            description: Where frames come from.
            default: bottom_camera
          - id: interval
            type: float
            description: Seconds between frames.  # a comment
            default: 0.5
        metadata: {}
        """;

    private static IReadOnlyList<ManifestProblem> Json(string text) => SageManifest.ValidateJson(Encoding.UTF8.GetBytes(text));

    private static string With(string path, string replacement)
    {
        Assert.Contains(path, Valid, StringComparison.Ordinal);
        return Valid.Replace(path, replacement, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidJson_HasNoProblems() => Assert.Empty(Json(Valid));

    [Fact]
    public void ValidYaml_HasNoProblems() => Assert.Empty(SageManifest.ValidateYaml(ValidYaml));

    [Fact]
    public void ValidJsonWithByteOrderMark_HasNoProblems() =>
        Assert.Empty(SageManifest.ValidateJson([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(Valid)]));

    [Theory]
    [InlineData("Mask-Classifier")]
    [InlineData("mask classifier")]
    [InlineData("mask.classifier")]
    [InlineData("maskclassifier:latest")]
    [InlineData("../../etc/passwd")]
    [InlineData("mask\u0000classifier")]
    [InlineData("maskclassifıer")]
    [InlineData("")]
    public void HostileName_IsRejectedNamingTheField(string name)
    {
        var problem = Assert.Single(Json(With("\"name\": \"mask-classifier\"", $"\"name\": \"{name.Replace("\0", "\\u0000", StringComparison.Ordinal)}\"")));

        Assert.Equal("name", problem.Field);
        Assert.True(name.Length == 0 ? problem.Rule.Contains("empty", StringComparison.Ordinal) : problem.Rule.Contains("^[a-z0-9_-]+$", StringComparison.Ordinal), problem.ToString());
    }

    [Theory]
    [InlineData("\"1.0\"")]
    [InlineData("\"v1.0.0\"")]
    [InlineData("\"01.0.0\"")]
    [InlineData("\"1.0.0.0\"")]
    [InlineData("\"1.0.0-\"")]
    [InlineData("\"latest\"")]
    [InlineData("\"1.0.0 \"")]
    [InlineData("\"1.0.0; rm -rf /\"")]
    [InlineData("1.0")]
    [InlineData("null")]
    public void HostileVersion_IsRejectedNamingTheField(string version)
    {
        var problem = Assert.Single(Json(With("\"version\": \"0.1.0\"", $"\"version\": {version}")));

        Assert.Equal("version", problem.Field);
    }

    [Theory]
    [InlineData("1.2.3")]
    [InlineData("0.0.1-rc.1")]
    [InlineData("10.20.30+build.5")]
    public void SemverVersion_IsAccepted(string version) =>
        Assert.Empty(Json(With("\"version\": \"0.1.0\"", $"\"version\": \"{version}\"")));

    [Fact]
    public void UnknownTopLevelField_IsNamed()
    {
        var problem = Assert.Single(Json(With("\"metadata\": {}", "\"metadata\": {}, \"image\": \"x\"")));

        Assert.Equal("image", problem.Field);
        Assert.Contains("not a field ECR accepts", problem.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDescription_IsRequired()
    {
        var problem = Assert.Single(Json(With("\"description\": \"Classifies masks.\",", "")));

        Assert.Equal(new ManifestProblem("description", "is required"), problem);
    }

    [Fact]
    public void UnknownArchitecture_IsNamedByIndex()
    {
        var problem = Assert.Single(Json(With("\"linux/arm64\"]", "\"linux/386\"]")));

        Assert.Equal("source.architectures[1]", problem.Field);
        Assert.Contains("'linux/386'", problem.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateAndEmptyArchitectures_AreRejected()
    {
        Assert.Equal("source.architectures[1]", Assert.Single(Json(With("\"linux/arm64\"]", "\"linux/amd64\"]"))).Field);
        Assert.Equal("source.architectures", Assert.Single(Json(With("[\"linux/amd64\", \"linux/arm64\"]", "[]"))).Field);
    }

    [Fact]
    public void SourceWithoutBranchOrTag_IsRejected()
    {
        var problem = Assert.Single(Json(With("\"branch\": \"main\",", "")));

        Assert.Equal("source.branch", problem.Field);
        Assert.Contains("branch or a tag", problem.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceWithTagInsteadOfBranch_IsAccepted() =>
        Assert.Empty(Json(With("\"branch\": \"main\"", "\"tag\": \"v0.1.0\"")));

    [Fact]
    public void SourceMissingEverything_NamesEachRequiredField()
    {
        var problems = Json(With(Valid[Valid.IndexOf("\"source\"", StringComparison.Ordinal)..(Valid.IndexOf("\"inputs\"", StringComparison.Ordinal))], "\"source\": {},\n  "));

        Assert.Equal(
            ["source.architectures", "source.branch", "source.build_args", "source.directory", "source.dockerfile", "source.url"],
            problems.Select(p => p.Field).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("\"url\": \"https://github.com/example/mask-classifier\"", "\"url\": \"file:///etc/passwd\"", "source.url")]
    [InlineData("\"build_args\": {}", "\"build_args\": []", "source.build_args")]
    [InlineData("\"dockerfile\": \"Dockerfile\"", "\"dockerfile\": \"\"", "source.dockerfile")]
    [InlineData("\"branch\": \"main\",", "\"branch\": \"main\", \"context\": \".\",", "source.context")]
    public void BadSourceField_IsNamed(string from, string to, string field) =>
        Assert.Equal(field, Assert.Single(Json(With(from, to))).Field);

    [Theory]
    [InlineData("\"type\": \"float\"", "\"type\": \"number\"", "inputs[1].type")]
    [InlineData("\"type\": \"string\"", "\"type\": \"file\"", "inputs[0].type")]
    [InlineData("\"default\": 1", "\"default\": \"one\"", "inputs[2].default")]
    [InlineData("\"default\": \"false\"", "\"default\": \"yes\"", "inputs[3].default")]
    [InlineData("\"id\": \"top\"", "\"id\": \"input\"", "inputs[2].id")]
    [InlineData("\"id\": \"top\"", "\"id\": \"-top\"", "inputs[2].id")]
    [InlineData(", \"default\": 1 }", " }", "inputs[2].default")]
    [InlineData("\"description\": \"Labels to publish.\"", "\"description\": \"Labels to publish.\", \"required\": true", "inputs[2].required")]
    public void BadInput_IsNamedByIndex(string from, string to, string field) =>
        Assert.Equal(field, Assert.Single(Json(With(from, to))).Field);

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"name\": ")]
    [InlineData("\"sage\"")]
    public void NotAManifest_IsOneProblemForTheFile(string text)
    {
        var problem = Assert.Single(Json(text));

        Assert.Equal("", problem.Field);
    }

    [Theory]
    [InlineData("name: mask-classifier", "name: Mask", "name")]
    [InlineData("version: \"0.1.0\"", "version: 1.0", "version")]
    [InlineData("- \"linux/arm64\"", "- linux/riscv64", "source.architectures[1]")]
    [InlineData("default: 0.5", "default: fast", "inputs[1].default")]
    [InlineData("metadata: {}", "metadata: {}\nimage: x", "image")]
    public void YamlProblems_NameTheFieldLikeJson(string from, string to, string field)
    {
        Assert.Contains(from, ValidYaml, StringComparison.Ordinal);

        var problem = Assert.Single(SageManifest.ValidateYaml(ValidYaml.Replace(from, to, StringComparison.Ordinal)));

        Assert.Equal(field, problem.Field);
    }

    [Theory]
    [InlineData("name: &a mask\n", "anchors")]
    [InlineData("description: |\n  two\n  lines\n", "block scalars")]
    [InlineData("name: x\nname: y\n", "appears twice")]
    [InlineData("name: x\n\tversion: 1\n", "tabs")]
    [InlineData("source: [linux/amd64\n", "not closed")]
    public void UnsupportedOrBrokenYaml_IsOneProblemNamingTheLine(string yaml, string expected)
    {
        var problem = Assert.Single(SageManifest.ValidateYaml(yaml));

        Assert.Contains("line ", problem.Rule, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateFile_ReadsYamlByExtension()
    {
        var dir = Directory.CreateTempSubdirectory("sage-").FullName;
        try
        {
            var yaml = Path.Combine(dir, "sage.yaml");
            File.WriteAllText(yaml, ValidYaml.Replace("name: mask-classifier", "name: Mask", StringComparison.Ordinal));
            var json = Path.Combine(dir, "sage.json");
            File.WriteAllText(json, Valid);

            Assert.Equal("name", Assert.Single(SageManifest.ValidateFile(yaml)).Field);
            Assert.Empty(SageManifest.ValidateFile(json));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
