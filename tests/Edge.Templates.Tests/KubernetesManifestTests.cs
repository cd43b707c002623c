using System.Net;
using System.Text.Json;
using Edge.Testing;
using k8s;
using k8s.Models;

namespace Edge.Templates.Tests;

/// <summary>
/// The k8s/*.yaml each template emits, checked against the Kubernetes object schemas offline
/// (<see cref="KubernetesSchema"/>: `kubectl apply --dry-run=client` needs an API server, and there is
/// none here), and the plugin run under its manifests' read-only root, volumes and arguments.
/// </summary>
[Collection(PackedTemplatesCollection.Name)]
public sealed class KubernetesManifestTests(PackedTemplatesFixture packed)
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);

    private static readonly Dictionary<string, string?> Development = new() { ["WAGGLE_PLUGIN_HOST"] = null, ["WAGGLE_APP_ID"] = null, ["MSG"] = null };

    [Fact]
    public void SchemaCheck_RefusesAMisspeltFieldAWrongTypeAndAnUnknownKind_InAnEmittedDeployment()
    {
        var project = packed.Create("edge-plugin", "schema-check", "--tests", "false");
        var emitted = File.ReadAllText(Path.Combine(project, "k8s", "deployment.yaml"));
        string Refused(string from, string to)
        {
            Assert.Contains(from, emitted, StringComparison.Ordinal);
            return Assert.Throws<KubernetesSchemaException>(() => KubernetesSchema.Read(emitted.Replace(from, to, StringComparison.Ordinal))).Message;
        }

        Assert.Equal(["Deployment", "Service"], KubernetesSchema.Read(emitted).Select(o => o.Kind));

        Assert.Contains("'contianers' could not be mapped to any .NET member contained in type 'k8s.Models.V1PodSpec'", Refused("containers:", "contianers:"), StringComparison.Ordinal);
        Assert.Contains("'readOnlyRootFileSystem' could not be mapped to any .NET member contained in type 'k8s.Models.V1SecurityContext'", Refused("readOnlyRootFilesystem:", "readOnlyRootFileSystem:"), StringComparison.Ordinal);
        // An env value must be a string; unquoted, 8080 is a number, the classic slip kubectl reports.
        Assert.Contains("could not be converted to System.String. Path: $.spec.template.spec.containers[0].env[2].value", Refused("value: \"8080\"", "value: 8080"), StringComparison.Ordinal);
        Assert.Contains("Path: $.spec.replicas", Refused("replicas: 1", "replicas: \"1\""), StringComparison.Ordinal);
        Assert.Contains("Path: $.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem", Refused("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: [true]"), StringComparison.Ordinal);
        Assert.Contains("Path: $.spec.template.spec.volumes[0].emptyDir", Refused("emptyDir: {}", "emptyDir: \"\""), StringComparison.Ordinal);
        Assert.Contains("no kind Deploymnet in apps/v1", Refused("kind: Deployment", "kind: Deploymnet"), StringComparison.Ordinal);
        Assert.Contains("Duplicate key replicas", Refused("  replicas: 1\n", "  replicas: 1\n  replicas: 2\n"), StringComparison.Ordinal);

        // Why the check is not KubernetesYaml's: its default reading drops the misspelt field, and even its
        // strict one turns the number into the string the API server would refuse.
        Assert.Equal(2, KubernetesYaml.LoadAllFromString(emitted.Replace("containers:", "contianers:", StringComparison.Ordinal)).Count);
        Assert.Equal(2, KubernetesYaml.LoadAllFromString(emitted.Replace("value: \"8080\"", "value: 8080", StringComparison.Ordinal), typeMap: null, strict: true).Count);
    }

    [Theory]
    [InlineData("edge-plugin")]
    [InlineData("edge-plugin", "--gpu")]
    [InlineData("edge-plugin", "--arch", "arm64", "--publisher", "rest")]
    [InlineData("edge-pipeline")]
    [InlineData("edge-pipeline", "--arch", "amd64", "--publisher", "mqtt")]
    public void Deployment_RunsLong_WithWritableCacheAndSpool_AndAServiceForItsHealthPort(string template, params string[] options)
    {
        var project = packed.Create(template, "k8s-demo", ["--tests", "false", .. options]);

        var objects = KubernetesSchema.ReadFile(Path.Combine(project, "k8s", "deployment.yaml"));

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var service = Assert.Single(objects.OfType<V1Service>());
        Assert.Equal(2, objects.Count);
        var pod = deployment.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        WritableWhereTheSdkWrites(pod, container);
        NodeSelectorFollowsTheImage(pod, options);
        if (template == "edge-plugin")
        {
            // A file input ends; looping it at one frame a second keeps the pod from restarting in a loop.
            Assert.Equal(["-input", "samples/red-apple.jpg", "-interval", "1"], container.Args);
            Assert.Equal("true", Env(container, "Inputs__Loop"));
            Assert.Equal("300", Env(container, "Health__StaleAfterSeconds"));
        }
        else
        {
            // No -mode and no -input: appsettings.json turns the AiCSD worker on, which serves until stopped.
            Assert.Null(container.Args);
            Assert.NotEqual("localhost", Env(container, "Triggers__AiCsd__Server"));
            // Requests can be hours apart, so liveness must not wait for one.
            Assert.Equal("0", Env(container, "Health__StaleAfterSeconds"));
            using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "appsettings.json")), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = settings.RootElement.GetProperty("Triggers").GetProperty("AiCsd").GetProperty("AllowedRoots")[0].GetString();
            var files = Assert.Single(container.VolumeMounts, m => m.MountPath == root);
            Assert.Contains(pod.Volumes, v => v.Name == files.Name);
        }

        Assert.Equal(deployment.Spec.Template.Metadata.Labels, service.Spec.Selector);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal("health", port.TargetPort.Value);
        var containerPort = Assert.Single(container.Ports, p => p.Name == "health").ContainerPort;
        Assert.Equal(containerPort, port.Port);
        Assert.Equal($"{containerPort}", Env(container, "Health__Port"));
        Assert.Equal(("/healthz", "health"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(("/readyz", "health"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(options.Contains("--gpu"), container.Resources.Limits.ContainsKey("nvidia.com/gpu"));
    }

    [Theory]
    [InlineData("edge-plugin")]
    [InlineData("edge-plugin", "--gpu")]
    [InlineData("edge-pipeline", "--arch", "arm64")]
    [InlineData("edge-function", "--gpu")]
    [InlineData("edge-function", "--arch", "amd64")]
    public void Job_RunsOnce_WithWritableCacheAndSpool(string template, params string[] options)
    {
        var project = packed.Create(template, "k8s-demo", ["--tests", "false", .. options]);

        var job = Assert.IsType<V1Job>(Assert.Single(KubernetesSchema.ReadFile(Path.Combine(project, "k8s", "job.yaml"))));

        var pod = job.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        Assert.Equal("Never", pod.RestartPolicy);
        WritableWhereTheSdkWrites(pod, container);
        NodeSelectorFollowsTheImage(pod, options);
        Assert.Equal(options.Contains("--gpu"), container.Resources.Limits.ContainsKey("nvidia.com/gpu"));
        switch (template)
        {
            case "edge-function":
                Assert.Equal("{'input': 'samples/red-apple.jpg'}", Env(container, "MSG"));
                Assert.Null(container.Args);
                break;
            case "edge-pipeline":
                // Without -mode the pipeline would serve AiCSD requests and the Job never complete.
                Assert.Equal(["-mode", "dev", "-input", "samples/red-apple.jpg"], container.Args);
                break;
            default:
                Assert.Equal(["-input", "samples/red-apple.jpg"], container.Args);
                break;
        }

        // A function is one-shot by nature: it gets no Deployment.
        Assert.Equal(template != "edge-function", File.Exists(Path.Combine(project, "k8s", "deployment.yaml")));
    }

    [Fact]
    public async Task Manifests_AsEmitted_RunUnderAReadOnlyRoot_TheDeploymentUntilStoppedAndTheJobOnce_AndFailWithoutTheirVolumes()
    {
        var project = packed.Create("edge-plugin", "ro-plugin", "--tests", "false", "--publisher", "rest");
        var published = Path.Combine(project, "publish");
        var dockerfile = Path.Combine(project, "Dockerfile");
        var dotnet = Tool.Run("dotnet", ["publish", "-r", "linux-x64", "-c", "Release", "--no-self-contained", "-o", published, "-warnaserror"], project, Development, Long);
        Assert.True(dotnet.ExitCode == 0, dotnet.ToString());
        var deployment = Assert.Single(KubernetesSchema.ReadFile(Path.Combine(project, "k8s", "deployment.yaml")).OfType<V1Deployment>());
        var job = Assert.IsType<V1Job>(Assert.Single(KubernetesSchema.ReadFile(Path.Combine(project, "k8s", "job.yaml"))));
        using var results = new CallbackServer();
        using var models = new FileServer(Path.Combine(published, "models", "colour-classifier.onnx"));
        var healthPort = Ports.Free();
        var folders = new Dictionary<string, string>();
        string Fresh(V1VolumeMount mount) => folders[mount.Name] = Directory.CreateDirectory(Path.Combine(project, "volumes", $"{mount.Name}-{Guid.NewGuid():N}")).FullName;
        PodSandbox Start(V1PodSpec pod, Func<V1VolumeMount, string?> volumes)
        {
            var container = Assert.Single(pod.Containers);
            // What a user's own manifest adds: where results go, and a model fetched over HTTP so the model
            // cache is written. The health port, where there is one, is a free port instead of the pod's 8080.
            var environment = new Dictionary<string, string> { ["Publishing__Rest__Url"] = results.Url("measurements").ToString(), ["Inference__Model"] = models.Url.ToString() };
            if (container.Env.Any(e => e.Name == "Health__Port"))
            {
                environment["Health__Port"] = $"{healthPort}";
            }

            return PodSandbox.Start(published, dockerfile, pod, container, volumes, environment);
        }

        // Each emptyDir is needed: without it the read-only root stops the plugin at start.
        foreach (var left in deployment.Spec.Template.Spec.Containers[0].VolumeMounts ?? [])
        {
            using var without = Start(deployment.Spec.Template.Spec, m => m == left ? null : Fresh(m));
            var refused = await without.WaitAsync(TimeSpan.FromMinutes(1));

            Assert.True(refused.ExitCode == 3, $"without {left.MountPath}: {refused}");
            Assert.Contains("error: the plugin could not start: Read-only file system", refused.StandardError, StringComparison.Ordinal);
        }

        using (var pod = Start(deployment.Spec.Template.Spec, Fresh))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            async Task<HttpStatusCode?> Probe(string path)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}{path}"));
                    return response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            }

            await Poll.UntilAsync(async () => pod.HasExited || (results.Requests.Count >= 3 && await Probe("/readyz") == HttpStatusCode.OK), TimeSpan.FromMinutes(2), () => $"three results and a ready probe:\n{pod}");

            Assert.False(pod.HasExited, $"the Deployment's plugin exited:\n{pod}");
            Assert.Equal(HttpStatusCode.OK, await Probe("/healthz"));
            Assert.All(results.Requests, r => Assert.Equal(("POST", "/measurements"), (r.Method, r.Path)));
            Assert.Matches(@"^(env\.classification: red \(confidence=0\.9\d+, input=red-apple\.jpg\)\n){3,}", pod.StandardOutput);
            // The model landed in the cache EDGE_MODEL_CACHE names, on its volume.
            var cache = Env(deployment.Spec.Template.Spec.Containers[0], "EDGE_MODEL_CACHE");
            var cacheMount = Assert.Single(deployment.Spec.Template.Spec.Containers[0].VolumeMounts, m => cache.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(folders[cacheMount.Name], cache[(cacheMount.MountPath.Length + 1)..]), "colour-classifier.onnx", SearchOption.AllDirectories));
            Assert.True(Directory.Exists(Path.Combine(folders["tmp"], "edge-plugin", "spool")), "the REST spool is not on the tmp volume");
        }

        var before = results.Requests.Count;
        using var once = Start(job.Spec.Template.Spec, Fresh);
        var ran = await once.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(ran.ExitCode == 0, ran.ToString());
        Assert.Matches(@"^env\.classification: red \(confidence=0\.9\d+, input=red-apple\.jpg\)\n$", ran.StandardOutput);
        Assert.Equal(before + 1, results.Requests.Count);
    }

    private static string Env(V1Container container, string name) => Assert.Single(container.Env, e => e.Name == name).Value;

    private static void WritableWhereTheSdkWrites(V1PodSpec pod, V1Container container)
    {
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        string MountedVolume(string path) => Assert.Single(container.VolumeMounts, m => m.MountPath == path).Name;
        var emptyDirs = pod.Volumes.Where(v => v.EmptyDir is not null).Select(v => v.Name).ToHashSet();

        // The spool and downloads go under /tmp; the model cache where EDGE_MODEL_CACHE points.
        Assert.Contains(MountedVolume("/tmp"), emptyDirs);
        var cache = Env(container, "EDGE_MODEL_CACHE");
        var cacheMount = Assert.Single(container.VolumeMounts, m => cache.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        Assert.Contains(cacheMount.Name, emptyDirs);
    }

    /// <summary>An image built for one architecture (--arch, or --gpu's amd64) is kept off nodes of the other.</summary>
    private static void NodeSelectorFollowsTheImage(V1PodSpec pod, string[] options)
    {
        var gpu = options.Contains("--gpu");
        var arch = gpu ? "amd64" : options.SkipWhile(o => o != "--arch").Skip(1).FirstOrDefault();
        var expected = new Dictionary<string, string>();
        if (gpu)
        {
            expected["nvidia.com/gpu.present"] = "true";
        }

        if (arch is not null)
        {
            expected["kubernetes.io/arch"] = arch;
        }

        Assert.Equal(expected, pod.NodeSelector ?? new Dictionary<string, string>());
        Assert.Equal(gpu ? "nvidia" : null, pod.RuntimeClassName);
    }

    /// <summary>One file over HTTP on loopback, as a model store would serve it.</summary>
    private sealed class FileServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public FileServer(string file)
        {
            var port = Ports.Free();
            Url = new Uri($"http://127.0.0.1:{port}/{Path.GetFileName(file)}");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            var body = File.ReadAllBytes(file);
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    using var response = context.Response;
                    response.StatusCode = context.Request.Url!.AbsolutePath == Url.AbsolutePath ? 200 : 404;
                    if (response.StatusCode == 200)
                    {
                        response.ContentLength64 = body.Length;
                        await response.OutputStream.WriteAsync(body);
                    }
                }
            });
        }

        public Uri Url { get; }

        public void Dispose()
        {
            _listener.Stop();
            try
            {
                _listener.Close();
            }
            catch (HttpListenerException)
            {
                // As in CallbackServer: closing may look the endpoint up again; the listener is stopped either way.
            }

            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
