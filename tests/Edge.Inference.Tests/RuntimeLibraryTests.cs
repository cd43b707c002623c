using System.Reflection;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

// This file opens both namespaces on purpose: a plugin author's file does, and it must compile
// without a single alias (OnnxModel and InferenceSession, TensorInfo and NodeMetadata side by side).
public sealed class RuntimeLibraryTests
{
    [Fact]
    public void NoPublicTypeOfOurs_SharesASimpleNameWithOneOfOnnxRuntimes()
    {
        var theirs = typeof(InferenceSession).Assembly.GetExportedTypes().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var ours = new[] { typeof(OnnxModel).Assembly, typeof(Edge.Plugin.Frame).Assembly }
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => theirs.Contains(t.Name))
            .Select(t => t.FullName)
            .ToArray();

        Assert.Empty(ours);
        Assert.Contains("InferenceSession", theirs);
        Assert.Contains("OnnxRuntimeException", theirs);
    }

    [Fact]
    public void BothNamespacesInOneFile_Compile()
    {
        using var model = OnnxModel.Load(Edge.Testing.RepoPaths.Model("add.onnx"));
        InferenceSession session = model.Session;
        TensorInfo ours = model.Inputs[0];
        NodeMetadata theirs = session.InputMetadata["a"];

        Assert.Same(theirs, ours.Metadata);
    }

    [Fact]
    public void ExplicitFolder_ListsTheLibrarysNamesInIt_AndNothingElse()
    {
        var folder = Directory.CreateTempSubdirectory().FullName;

        var candidates = NativeRuntime.Candidates(folder, OnnxRuntimeLibrary.PathVariable);

        Assert.Equal([Path.Combine(folder, "libonnxruntime.so"), Path.Combine(folder, "libonnxruntime.so.1")], candidates.Select(c => c.Path));
        Assert.All(candidates, c => Assert.Equal("EDGE_ONNXRUNTIME_PATH folder", c.Source));
    }

    [Fact]
    public void ExplicitFile_IsTheOnlyCandidate()
    {
        var only = Assert.Single(NativeRuntime.Candidates("/opt/jetpack/lib/libonnxruntime.so.1.30.0", "Inference:RuntimePath"));

        Assert.Equal("/opt/jetpack/lib/libonnxruntime.so.1.30.0", only.Path);
    }

    [Fact]
    public void Open_NothingThere_ListsEveryPlaceTriedAndTheSettings()
    {
        var empty = Directory.CreateTempSubdirectory().FullName;

        var error = Assert.Throws<InferenceException>(() => NativeRuntime.Open(NativeRuntime.Candidates(empty, OnnxRuntimeLibrary.PathVariable)));

        Assert.Contains(Path.Combine(empty, "libonnxruntime.so") + " (no such file)", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(empty, "libonnxruntime.so.1") + " (no such file)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Inference:RuntimePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AFileThatIsNoLibrary_KeepsTheLoadersReason()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "libonnxruntime.so");
        File.WriteAllText(path, new string('x', 4096));

        var error = Assert.Throws<InferenceException>(() => NativeRuntime.Open([("test", path)]));

        Assert.Contains($"{path} (could not be loaded: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("invalid ELF header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ALibraryThatIsNotOnnxRuntime_SaysSo()
    {
        var libz = new[] { "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1" }.First(File.Exists);

        var error = Assert.Throws<InferenceException>(() => NativeRuntime.Open([("test", libz)]));

        Assert.Contains("exports no OrtGetApiBase: it is not ONNX Runtime", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheLibraryInUse_IsAcceptedByTheVersionCheck()
    {
        var runtime = NativeRuntime.Load();

        NativeRuntime.Check(runtime, NativeRuntime.ManagedVersion);
        Assert.True(runtime.OffersApi((uint)NativeRuntime.ManagedVersion.Minor));
        Assert.Equal("runtime package", runtime.Source);
    }

    [Fact]
    public void ALibraryOlderThanTheManagedPackage_FailsNamingBothVersionsAndWhatToInstall()
    {
        var old = new NativeRuntime.LoadedRuntime(0, 0, new Version(1, 17, 3), "1.17.3", "/opt/jetpack/libonnxruntime.so", "EDGE_ONNXRUNTIME_PATH");

        var error = Assert.Throws<InferenceException>(() => NativeRuntime.Check(old, new Version(1, 30, 0)));

        Assert.Contains("/opt/jetpack/libonnxruntime.so (EDGE_ONNXRUNTIME_PATH) is version 1.17.3", error.Message, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Managed 1.30.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Install ONNX Runtime 1.30 or newer", error.Message, StringComparison.Ordinal);
        Assert.Contains("JetPack", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.30.0", 1, 30, 0)]
    [InlineData("1.17.3-dev+abc", 1, 17, 3)]
    [InlineData("1.30.0+f2c39fe2f838cf35ce7da92824f5a5e3ee6e88a7", 1, 30, 0)]
    [InlineData("1.30", 1, 30, 0)]
    [InlineData("not a version", 0, 0, 0)]
    public void Version_Parses(string text, int major, int minor, int build)
    {
        Assert.Equal(new Version(major, minor, build), NativeRuntime.ParseVersion(text));
    }

    [Fact]
    public void ManagedVersion_IsThePackagesOwn()
    {
        var informational = typeof(OrtEnv).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        Assert.StartsWith(OnnxRuntimeLibrary.ManagedVersion + "+", informational, StringComparison.Ordinal);
    }
}
