using k8s;
using k8s.Models;

namespace Edge.Templates.Tests;

/// <summary>
/// The k8s/*.yaml each template emits, read strictly into the Kubernetes object model (the schemas
/// KubernetesClient carries): an unknown or misspelt field, or a value of the wrong type, fails, as the
/// API server would refuse it. `kubectl apply --dry-run=client` needs an API server, and there is none here.
/// </summary>
[Collection(PackedTemplatesCollection.Name)]
public sealed class KubernetesManifestTests(PackedTemplatesFixture packed)
{
    private static List<object> Load(string path) => KubernetesYaml.LoadAllFromString(File.ReadAllText(path), typeMap: null, strict: true);

    [Fact]
    public void StrictReading_RefusesAMisspeltFieldAndAWrongType()
    {
        const string Good = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
            spec:
              containers:
                - name: c
                  image: i
                  securityContext:
                    readOnlyRootFilesystem: true
            """;

        Assert.IsType<V1Pod>(Assert.Single(KubernetesYaml.LoadAllFromString(Good, typeMap: null, strict: true)));
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Good.Replace("readOnlyRootFilesystem", "readOnlyRootFileSystem", StringComparison.Ordinal), typeMap: null, strict: true));
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Good.Replace("containers:", "contianers:", StringComparison.Ordinal), typeMap: null, strict: true));
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Good.Replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: [yes]", StringComparison.Ordinal), typeMap: null, strict: true));
    }

    [Theory]
    [InlineData("edge-plugin")]
    [InlineData("edge-plugin", "--gpu")]
    [InlineData("edge-pipeline")]
    public void Deployment_RunsLong_WithWritableCacheAndSpool_AndAServiceForItsHealthPort(string template, params string[] options)
    {
        var project = packed.Create(template, "k8s-demo", ["--tests", "false", .. options]);

        var objects = Load(Path.Combine(project, "k8s", "deployment.yaml"));

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var service = Assert.Single(objects.OfType<V1Service>());
        var pod = deployment.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        WritableWhereTheSdkWrites(pod, container);
        if (template == "edge-plugin")
        {
            // A file input ends; looping it keeps the pod from restarting in a loop until a camera is configured.
            Assert.Contains(container.Env, e => e.Name == "Inputs__Loop" && e.Value == "true");
            Assert.Contains("-interval", container.Args);
        }

        Assert.Equal(deployment.Spec.Template.Metadata.Labels, service.Spec.Selector);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal("health", port.TargetPort.Value);
        Assert.Contains(container.Ports, p => p.Name == "health" && p.ContainerPort == port.Port);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal(options.Contains("--gpu"), container.Resources.Limits.ContainsKey("nvidia.com/gpu"));
    }

    [Theory]
    [InlineData("edge-plugin")]
    [InlineData("edge-pipeline")]
    [InlineData("edge-function", "--gpu")]
    public void Job_IsValid_WithWritableCacheAndSpool(string template, params string[] options)
    {
        var project = packed.Create(template, "k8s-demo", ["--tests", "false", .. options]);

        var job = Assert.IsType<V1Job>(Assert.Single(Load(Path.Combine(project, "k8s", "job.yaml"))));

        var pod = job.Spec.Template.Spec;
        Assert.Equal("Never", pod.RestartPolicy);
        WritableWhereTheSdkWrites(pod, Assert.Single(pod.Containers));
    }

    private static void WritableWhereTheSdkWrites(V1PodSpec pod, V1Container container)
    {
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        string MountedVolume(string path) => Assert.Single(container.VolumeMounts, m => m.MountPath == path).Name;
        var emptyDirs = pod.Volumes.Where(v => v.EmptyDir is not null).Select(v => v.Name).ToHashSet();

        // The spool and downloads go under /tmp; the model cache where EDGE_MODEL_CACHE points.
        Assert.Contains(MountedVolume("/tmp"), emptyDirs);
        var cache = Assert.Single(container.Env, e => e.Name == "EDGE_MODEL_CACHE").Value;
        var cacheMount = Assert.Single(container.VolumeMounts, m => cache.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        Assert.Contains(cacheMount.Name, emptyDirs);
    }
}
