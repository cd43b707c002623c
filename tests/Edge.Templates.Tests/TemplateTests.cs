using System.Text.RegularExpressions;
using Edge.Plugin.Manifest;
using Edge.Testing;
using k8s.Models;

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
    public void Pack_WritesEveryPackage_AllAtTheVersionGitGives()
    {
        var ids = Directory.GetFiles(packed.Packages, "*.nupkg").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        string[] packages = ["Edge.Inference", "Edge.Mqtt", "Edge.Plugin.Abstractions", "Edge.Plugin.AiCsd", "Edge.Plugin.Hosting", "Edge.Plugin.Manifest", "Edge.Plugin.Mqtt", "Edge.Plugin.Testing", "Edge.Plugin.Waggle", "Edge.Storage", "Edge.Storage.S3", "Edge.Templates"];

        Assert.Equal([.. packages.Select(p => $"{p}.{packed.Version}.nupkg")], ids);
        // MinVer: no release tag yet, so 0.2.0-alpha.0.<commits>; two commits never pack the same version.
        Assert.Matches(@"^0\.2\.0-alpha\.0\.\d+$", packed.Version);
    }

    [Fact]
    public void EdgePlugin_BuildsPassesItsTestsAndClassifiesTheSample()
    {
        var project = packed.Create("edge-plugin", "Mask.Classifier");

        Succeeded(Dotnet(project, "build", "-warnaserror", "-c", "Release"));
        // The Edge packages must have come from the fresh pack, not from anywhere else.
        Assert.True(Directory.Exists(Path.Combine(project, ".packages", "edge.plugin.hosting", packed.Version)), "Edge.Plugin.Hosting was not restored from the local pack");
        var run = Dotnet(project, Path.Combine("bin", "Release", "net10.0", "Mask.Classifier.dll"), "-top", "2");
        var tests = Dotnet(project, "test", Path.Combine("tests", "Mask.Classifier.Tests"));

        Succeeded(run);
        Assert.Matches(@"^env\.classification: red \(confidence=0\.9\d\d, input=red-apple\.jpg\)\nenv\.classification: \w+ ", run.StandardOutput);
        Succeeded(tests);
        // Three unit tests of the plugin through PluginTestHost, and one of the program's command line.
        Assert.Contains("Passed!  - Failed:     0, Passed:     4", tests.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(SageManifest.ValidateFile(Path.Combine(project, "sage.json")));
        // The default publisher is Waggle's, which switches itself on only on a node.
        Assert.Contains("builder.Services.AddWaggle();", Read(project, "Program.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void EdgePipeline_WithYamlArm64RestAndAnOddName_BuildsPassesItsTestsAndPostsTheResult()
    {
        var project = packed.Create("edge-pipeline", "1st.pipeline", "--manifest", "yaml", "--arch", "arm64", "--publisher", "rest");
        using var endpoint = new CallbackServer();

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        // The Job's arguments (-mode dev): one run on the sample instead of serving AiCSD requests.
        var job = Assert.IsType<V1Job>(Assert.Single(KubernetesSchema.ReadFile(Path.Combine(project, "k8s", "job.yaml"))));
        var run = Tool.Run(
            "dotnet",
            [Path.Combine("bin", "Debug", "net10.0", "1st.pipeline.dll"), .. Assert.Single(job.Spec.Template.Spec.Containers).Args],
            project,
            new Dictionary<string, string?>(Development) { ["Publishing__Rest__Url"] = endpoint.Url("measurements").ToString(), ["Publishing__Rest__Spool__Directory"] = Path.Combine(project, "spool") },
            Long);
        var tests = Dotnet(project, "test", Path.Combine("tests", "1st.pipeline.Tests"));

        Succeeded(run);
        Assert.StartsWith("pipeline.classification: red (confidence=", run.StandardOutput, StringComparison.Ordinal);
        var posted = Assert.Single(endpoint.Requests);
        Assert.Equal(("POST", "/measurements"), (posted.Method, posted.Path));
        Assert.Matches("^\\{\"name\":\"pipeline.classification\",\"ts\":\\d+,\"meta\":\\{\"confidence\":\"0\\.9\\d\\d\",\"input\":\"red-apple.jpg\"\\},\"val\":\"red\"\\}$", posted.Body);
        Succeeded(tests);
        Assert.Contains("builder.Services.AddRestPublisher();", Read(project, "Program.cs"), StringComparison.Ordinal);
        Assert.Contains("namespace _1st.pipeline;", Read(project, "Classifier.cs"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(project, "sage.json")));
        var manifest = Read(project, "sage.yaml");
        Assert.Contains("name: 1st-pipeline\n", manifest, StringComparison.Ordinal);
        Assert.Contains("  architectures:\n    - linux/arm64\n  url:", manifest, StringComparison.Ordinal);
        Assert.Empty(SageManifest.ValidateFile(Path.Combine(project, "sage.yaml")));
        Assert.Contains("--platform linux/arm64 -t 1st-pipeline:0.1.0", Read(project, "Dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void EdgeFunction_WithGpuAndNoTests_PrintsOnlyTheLabelFromMsgAndSaysWhyItRunsOnTheCpu()
    {
        var project = packed.Create("edge-function", "my-function", "--tests", "false", "--gpu");

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        var dll = Path.Combine(project, "bin", "Debug", "net10.0", "my-function.dll");
        Tool.Result Function(string? message) => Tool.Run("dotnet", [dll], project, new Dictionary<string, string?>(Development) { ["MSG"] = message }, Long);
        var json = Function("{\"input\": \"samples/red-apple.jpg\"}");
        // The seed's form: a Python dict, quoted with ', with keys the plugin does not know.
        var pythonDict = Function("{'input': 'samples/red-apple.jpg', 'predictions': '3'}");
        var malformed = Function("{'input': 'samples/red-apple.jpg'");
        var missing = Function(null);

        Succeeded(json);
        Assert.Equal("red\n", json.StandardOutput);
        Succeeded(pythonDict);
        // predictions, as the seed's callers send it: the three best labels, best first.
        Assert.Equal("red\ngreen\nblue\n", pythonDict.StandardOutput);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Empty(malformed.StandardOutput);
        Assert.Contains("error: MSG is not a JSON object or Python dict: expected ',' or '}' after the value of 'input'", malformed.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Empty(missing.StandardOutput);
        Assert.Contains("error: Abaco mode needs the parameters in the MSG environment variable", missing.StandardError, StringComparison.Ordinal);

        // --gpu asks for Auto and brings the GPU package: on this machine, which has no CUDA, the log names
        // the provider the model runs on and the library each GPU provider could not find.
        Assert.Matches(@"runs on CPU: TensorRT libraries not found \(lib[\w.]+\.so[\w.]*\); CUDA libraries not found \(lib[\w.]+\.so[\w.]*\)", json.StandardError);
        Assert.Matches("\"ExecutionProvider\": \\{\\s*(//[^\\n]*\\s*)*\"Name\": \"Auto\"", Read(project, "appsettings.json"));
        Assert.False(File.Exists(Path.Combine(project, "FunctionMessage.cs")));
        Assert.False(Directory.Exists(Path.Combine(project, "tests")));
        Assert.False(File.Exists(Path.Combine(project, "k8s", "deployment.yaml")));
        Assert.Contains("nvidia.com/gpu: 1", Read(project, Path.Combine("k8s", "job.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Gpu_ReferencesTheGpuPackageAndBuildsOnCuda13WithCudnn9ForAmd64Only()
    {
        var project = packed.Create("edge-plugin", "gpu-plugin", "--tests", "false", "--gpu");
        var csproj = Read(project, "gpu-plugin.csproj");
        var dockerfile = Read(project, "Dockerfile");

        Assert.Contains($"<PackageReference Include=\"Microsoft.ML.OnnxRuntime.Gpu.Linux\" Version=\"{OnnxRuntimeVersion}\" />", csproj, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Microsoft.ML.OnnxRuntime\"", csproj, StringComparison.Ordinal);
        Assert.Matches(@"ARG CUDA_IMAGE=nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu24\.04\n", dockerfile);
        Assert.Contains("CUDA 13", dockerfile, StringComparison.Ordinal);
        Assert.Contains("cuDNN 9", dockerfile, StringComparison.Ordinal);
        Assert.Contains("TensorRT 10", dockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM cuda-${TENSORRT}-tensorrt AS final", dockerfile, StringComparison.Ordinal);
        Assert.Contains("RUN dotnet publish gpu-plugin.csproj -r linux-x64 ", dockerfile, StringComparison.Ordinal);
        Assert.Contains("--platform linux/amd64 -t gpu-plugin:0.1.0", dockerfile, StringComparison.Ordinal);
        Assert.DoesNotContain("linux/arm64", dockerfile, StringComparison.Ordinal);
        // The GPU package has no arm64 libraries, so the manifest must not offer arm64 either.
        Assert.Matches("\"architectures\": \\[\\s*\"linux/amd64\"\\s*\\]", Read(project, "sage.json"));
        Assert.False(Directory.Exists(Path.Combine(project, "gpu-natives")));
    }

    [Fact]
    public void EdgePlugin_PublishForALinuxRuntime_CarriesThatRuntimesOnnxRuntimeAlone()
    {
        var project = packed.Create("edge-plugin", "publish-plugin", "--tests", "false");

        Assert.Contains($"<PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"{OnnxRuntimeVersion}\"", Read(project, "publish-plugin.csproj"), StringComparison.Ordinal);
        Assert.Contains("RUN dotnet publish publish-plugin.csproj -a $TARGETARCH ", Read(project, "Dockerfile"), StringComparison.Ordinal);
        foreach (var (rid, machine) in new[] { ("linux-x64", "x86-64"), ("linux-arm64", "aarch64") })
        {
            var output = Path.Combine(project, "publish", rid);
            Succeeded(Dotnet(project, "publish", "-r", rid, "-c", "Release", "--no-self-contained", "-o", output, "-warnaserror"));
            var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order().ToArray();

            Assert.Contains("libonnxruntime.so", files);
            Assert.Contains("libonnxruntime_providers_shared.so", files);
            Assert.Equal(machine, ElfMachine(Path.Combine(output, "libonnxruntime.so")));
            // Windows, macOS and mobile libraries, and a runtimes/ tree for other platforms, have no place in a Linux image.
            Assert.DoesNotContain(files, f => f.StartsWith("runtimes", StringComparison.Ordinal) || f.EndsWith(".dylib", StringComparison.Ordinal)
                || f.EndsWith(".aar", StringComparison.Ordinal) || f.EndsWith(".lib", StringComparison.Ordinal) || f.StartsWith("onnxruntime", StringComparison.Ordinal));

            // A Waggle plugin carries the node's AMQP client and nothing of the other platforms or of S3.
            Assert.Contains("Edge.Plugin.Waggle.dll", files);
            Assert.Contains("RabbitMQ.Client.dll", files);
            Assert.DoesNotContain(files, f => f.StartsWith("AWSSDK", StringComparison.Ordinal) || f.StartsWith("Edge.Mqtt", StringComparison.Ordinal)
                || f.StartsWith("Edge.Plugin.Mqtt", StringComparison.Ordinal) || f.StartsWith("Edge.Plugin.AiCsd", StringComparison.Ordinal)
                || f.StartsWith("Edge.Storage.S3", StringComparison.Ordinal) || f.StartsWith("edge-manifest", StringComparison.Ordinal) || f.StartsWith("Edge.Plugin.Manifest", StringComparison.Ordinal));
        }
    }

    /// <summary>The version Directory.Packages.props pins for the runtime packages (EdgeOnnxRuntimeVersion), which the templates write into emitted projects.</summary>
    private static string OnnxRuntimeVersion { get; } = System.Xml.Linq.XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Packages.props"))
        .Descendants("EdgeOnnxRuntimeVersion").Single().Value;

    private static string ElfMachine(string path)
    {
        // e_machine, two bytes at offset 18 of the ELF header: 0x3e x86-64, 0xb7 AArch64.
        Span<byte> header = stackalloc byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.True(header[..4].SequenceEqual("\u007fELF"u8), $"{path} is not an ELF file");
        return BitConverter.ToUInt16(header[18..]) switch { 0x3e => "x86-64", 0xb7 => "aarch64", var other => $"0x{other:x}" };
    }

    [Fact]
    public async Task EdgePlugin_WithMqttPublisher_PublishesTheResultToMosquitto()
    {
        var project = packed.Create("edge-plugin", "mqtt-plugin", "--tests", "false", "--publisher", "mqtt");
        await using var broker = await MosquittoBroker.StartAsync();

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        using var subscriber = MosquittoBroker.Launch("mosquitto_sub", ["-h", "127.0.0.1", "-p", $"{broker.Port}", "-i", "template-sub", "-t", "mqtt-plugin/#", "-v", "-C", "1"]);
        await broker.WaitForLogAsync("Sending SUBACK to template-sub");
        var run = Tool.Run(
            "dotnet",
            [Path.Combine("bin", "Debug", "net10.0", "mqtt-plugin.dll")],
            project,
            new Dictionary<string, string?>(Development) { ["Publishing__Mqtt__Server"] = "127.0.0.1", ["Publishing__Mqtt__Port"] = $"{broker.Port}" },
            Long);
        var received = await subscriber.WaitAsync(TimeSpan.FromMinutes(1));

        Succeeded(run);
        Assert.Contains("results to mqtt, stdout", run.StandardError, StringComparison.Ordinal);
        Assert.Matches("^mqtt-plugin/env/classification \\{\"name\":\"env.classification\",\"ts\":\\d+,\"meta\":\\{\"confidence\":\"0\\.9\\d\\d\",\"input\":\"red-apple.jpg\"\\},\"val\":\"red\"\\}\n$", received.StandardOutput);
        Assert.Contains("builder.Services.AddMqttPublisher();", Read(project, "Program.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain("\"Publisher\"", Read(project, "appsettings.json"), StringComparison.Ordinal);
        // An MQTT plugin carries our MQTT client and no AMQP client, S3 SDK or AiCSD worker.
        var assemblies = Directory.GetFiles(Path.Combine(project, "bin", "Debug", "net10.0"), "*.dll").Select(Path.GetFileName).ToArray();
        Assert.Contains("Edge.Mqtt.dll", assemblies);
        Assert.DoesNotContain(assemblies, f => f!.StartsWith("RabbitMQ", StringComparison.Ordinal) || f.StartsWith("AWSSDK", StringComparison.Ordinal)
            || f.StartsWith("Edge.Plugin.AiCsd", StringComparison.Ordinal) || f.StartsWith("Edge.Plugin.Waggle", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EdgePipeline_ServesAnAiCsdRequestFromMosquitto_CallingBackInOrder()
    {
        var project = packed.Create("edge-pipeline", "aicsd-pipeline", "--tests", "false");
        await using var broker = await MosquittoBroker.StartAsync();
        using var callbacks = new CallbackServer();
        var root = Directory.CreateDirectory(Path.Combine(project, "files")).FullName;
        var input = Path.Combine(root, "input", "red-apple.jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(input)!);
        File.Copy(Path.Combine(project, "samples", "red-apple.jpg"), input);

        Succeeded(Dotnet(project, "build", "-warnaserror"));
        // No -mode: appsettings.json turns the AiCSD worker on (Triggers:AiCsd:Enabled).
        using var worker = MosquittoBroker.Launch("env", [
            "-C", project, "-u", "WAGGLE_PLUGIN_HOST", "-u", "WAGGLE_APP_ID", "-u", "MSG",
            "Triggers__AiCsd__Server=127.0.0.1", $"Triggers__AiCsd__Port={broker.Port}", "Triggers__AiCsd__ClientId=template-worker",
            $"Triggers__AiCsd__AllowedRoots__0={root}",
            "dotnet", Path.Combine("bin", "Debug", "net10.0", "aicsd-pipeline.dll")]);
        await broker.WaitForLogAsync("Sending SUBACK to template-worker", TimeSpan.FromMinutes(2));
        var request = $$"""
            {"InputFileLocation": "{{input}}", "OutputFileFolder": "{{Path.Combine(root, "output")}}", "ModelParams": {"Brightness": "0"},
             "JobUpdateUrl": "{{callbacks.Url("api/v1/job/pipeline/job-1/task-1")}}", "PipelineStatusUrl": "{{callbacks.Url("api/v1/pipelineStatus/job-1/task-1")}}", "GatewayIP": "127.0.0.1"}
            """;
        Succeeded(Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.Port}", "-q", "1", "-t", "mqtt-export/pipeline/params", "-m", request]));
        if (!await Poll.TryUntilAsync(() => callbacks.Requests.Count >= 2, TimeSpan.FromMinutes(2)))
        {
            await worker.WaitAsync(TimeSpan.FromSeconds(1)); // throws with the worker's log
        }

        var (job, status) = (callbacks.Requests.ElementAt(0), callbacks.Requests.ElementAt(1));
        Assert.Equal(("PUT", "/api/v1/job/pipeline/job-1/task-1"), (job.Method, job.Path));
        Assert.Contains("\"Status\":\"PipelineComplete\"", job.Body, StringComparison.Ordinal);
        Assert.Contains("\"Name\":\"red-apple.results.json\"", job.Body, StringComparison.Ordinal);
        Assert.Contains("pipeline.classification,red", job.Body, StringComparison.Ordinal);
        Assert.Equal(("POST", "/api/v1/pipelineStatus/job-1/task-1", "PipelineComplete"), (status.Method, status.Path, status.Body));
        var output = File.ReadAllText(Path.Combine(root, "output", "red-apple.results.json"));
        Assert.Contains("\"name\": \"pipeline.classification\"", output, StringComparison.Ordinal);
        Assert.Contains("\"value\": \"red\"", output, StringComparison.Ordinal);
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
        foreach (var option in new[] { "--model", "--input", "--publisher", "--gpu", "--arch", "--manifest", "--tests", "--skip-restore", "--sdk-version", "--onnxruntime-version" })
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
