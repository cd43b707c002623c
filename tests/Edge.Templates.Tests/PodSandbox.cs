using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Edge.Testing;
using k8s.Models;

namespace Edge.Templates.Tests;

/// <summary>
/// Runs a published plugin as the kubelet would run a manifest's container, as near as a machine with no
/// cluster and no container runtime gets: bubblewrap builds a root of the system's /usr and /etc plus the
/// app at the Dockerfile's WORKDIR, binds an empty folder at each emptyDir mount, makes the root
/// read-only when readOnlyRootFilesystem says so, runs as runAsUser with only the container's
/// environment, and starts the Dockerfile's ENTRYPOINT with the container's args.
/// </summary>
internal sealed partial class PodSandbox : IDisposable
{
    // Where the runtime is bound inside, so the sandbox does not depend on where this machine installed it.
    private const string DotnetInside = "/opt/dotnet";

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private PodSandbox(IReadOnlyList<string> arguments)
    {
        if (!File.Exists("/usr/bin/bwrap"))
        {
            throw new InvalidOperationException("bubblewrap (bwrap) is missing: build/setup.sh --test installs it");
        }

        // Not bwrap's --die-with-parent: its signal follows the thread that started the process, and a
        // thread-pool thread that ends would kill the plugin mid-test. timeout bounds a sandbox that a
        // crashed test host left behind instead.
        var info = new ProcessStartInfo("timeout") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["--kill-after=10", "600", "/usr/bin/bwrap", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string StandardOutput => Snapshot(_stdout);

    public string StandardError => Snapshot(_stderr);

    /// <summary>
    /// Starts <paramref name="container"/> of <paramref name="pod"/> on the app published to
    /// <paramref name="published"/>, built from the project's <paramref name="dockerfile"/>.
    /// <paramref name="volumes"/> gives the host folder standing in for each mount, or null to leave it out;
    /// <paramref name="environment"/> replaces or adds what a user's own manifest would set.
    /// </summary>
    public static PodSandbox Start(string published, string dockerfile, V1PodSpec pod, V1Container container, Func<V1VolumeMount, string?> volumes, IReadOnlyDictionary<string, string> environment)
    {
        var (workDir, entrypoint) = FinalStage(File.ReadAllText(dockerfile));
        Assert.Equal("dotnet", entrypoint[0]);
        List<string> args = ["--tmpfs", "/", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"];
        foreach (var top in new[] { "bin", "sbin", "lib", "lib32", "lib64", "libx32" })
        {
            var path = "/" + top;
            if (new FileInfo(path).LinkTarget is { } target)
            {
                args.AddRange(["--symlink", target, path]);
            }
            else if (Directory.Exists(path))
            {
                args.AddRange(["--ro-bind", path, path]);
            }
        }

        var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        args.AddRange(["--dev", "/dev", "--proc", "/proc", "--ro-bind", dotnetRoot, DotnetInside, "--ro-bind", published, workDir]);
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = Assert.Single(pod.Volumes, v => v.Name == mount.Name);
            Assert.True(volume.EmptyDir is not null, $"volume {volume.Name} is not an emptyDir; only those can be stood in for here");
            if (volumes(mount) is { } folder)
            {
                args.AddRange([mount.ReadOnlyProperty == true ? "--ro-bind" : "--bind", folder, mount.MountPath]);
            }
        }

        if (container.SecurityContext?.ReadOnlyRootFilesystem == true)
        {
            args.AddRange(["--remount-ro", "/"]);
        }

        if ((container.SecurityContext?.RunAsUser ?? pod.SecurityContext?.RunAsUser) is { } user)
        {
            args.AddRange(["--unshare-user", "--uid", $"{user}"]);
        }

        // A container's environment is its image's plus its manifest's, nothing of the host's; HOME is the
        // runtime image's app user's (1654), which is not writable there either.
        args.AddRange(["--clearenv", "--setenv", "PATH", $"{DotnetInside}:/usr/bin:/bin", "--setenv", "DOTNET_ROOT", DotnetInside, "--setenv", "HOME", "/home/app"]);
        var env = (container.Env ?? []).ToDictionary(e => e.Name, e => e.Value);
        foreach (var (name, value) in environment)
        {
            env[name] = value;
        }

        foreach (var (name, value) in env)
        {
            args.AddRange(["--setenv", name, value]);
        }

        args.AddRange(["--chdir", workDir, Path.Combine(DotnetInside, "dotnet"), .. entrypoint.Skip(1), .. container.Args ?? []]);
        return new PodSandbox(args);
    }

    public async Task<Tool.Result> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the sandboxed plugin did not finish in {timeout}:\n{this}");
        }

        return new Tool.Result(_process.ExitCode, StandardOutput, StandardError);
    }

    public override string ToString() => $"--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    /// <summary>The WORKDIR and exec-form ENTRYPOINT the image runs with: the last of each in the file.</summary>
    private static (string WorkDir, string[] Entrypoint) FinalStage(string dockerfile)
    {
        var workDir = WorkDir().Matches(dockerfile).Last().Groups[1].Value;
        var entrypoint = Entrypoint().Matches(dockerfile).Last().Groups[1].Value;
        return (workDir, [.. Regex.Matches(entrypoint, "\"([^\"]*)\"").Select(m => m.Groups[1].Value)]);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.Append(line).Append('\n');
            }
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    [GeneratedRegex(@"^WORKDIR\s+(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex WorkDir();

    [GeneratedRegex(@"^ENTRYPOINT\s+\[(.*)\]\s*$", RegexOptions.Multiline)]
    private static partial Regex Entrypoint();
}
