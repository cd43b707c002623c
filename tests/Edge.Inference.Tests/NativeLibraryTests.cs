using Edge.Inference.Native;

namespace Edge.Inference.Tests;

public sealed class NativeLibraryTests
{
    [Fact]
    public void Probe_WithoutOverride_TriesAppFolderThenRuntimesThenSystem()
    {
        var candidates = OrtLibrary.ProbeCandidates(null, "/app");

        Assert.Equal("/app/libonnxruntime.so.1", candidates[0].Location);
        Assert.Contains(candidates, c => c.Location == $"/app/runtimes/{OrtLibrary.RuntimeIdentifier()}/native/libonnxruntime.so.1");
        Assert.Equal("system loader", candidates[^1].Source);
        var order = candidates.Select(c => c.Source).Distinct().ToArray();
        Assert.Equal(["app folder", "runtimes folder", "system loader"], order);
    }

    [Fact]
    public void Probe_WithOverride_UsesOnlyTheOverride()
    {
        var candidates = OrtLibrary.ProbeCandidates("/opt/ort/lib/libonnxruntime.so.1", "/app");

        var only = Assert.Single(candidates);
        Assert.Equal("/opt/ort/lib/libonnxruntime.so.1", only.Location);
    }

    [Fact]
    public void Load_NothingFound_ListsEveryPlaceTried()
    {
        var empty = Directory.CreateTempSubdirectory().FullName;
        var candidates = OrtLibrary.ProbeCandidates(null, empty)
            .Select(c => c.IsPath ? c : c with { Location = "libonnxruntime-that-does-not-exist.so.1" })
            .ToList();

        var error = Assert.Throws<OnnxRuntimeException>(() => OrtLibrary.Load(candidates));

        Assert.Contains(Path.Combine(empty, "libonnxruntime.so.1") + " (no such file)", error.Message, StringComparison.Ordinal);
        Assert.Contains("runtimes", error.Message, StringComparison.Ordinal);
        Assert.Contains("libonnxruntime-that-does-not-exist.so.1 (could not be loaded", error.Message, StringComparison.Ordinal);
        Assert.Contains(OrtLibrary.PathVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ALibraryThatIsNotOnnxRuntime_IsSkippedWithAReason()
    {
        var candidates = new List<OrtLibrary.Candidate> { new("test", "libz.so.1", IsPath: false) };

        var error = Assert.Throws<OnnxRuntimeException>(() => OrtLibrary.Load(candidates));

        Assert.Contains("exports no OrtGetApiBase", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.30.0", 1, 30, 0)]
    [InlineData("1.17.3-dev+abc", 1, 17, 3)]
    public void Version_Parses(string text, int major, int minor, int build)
    {
        Assert.True(OrtLibrary.TryParseVersion(text, out var version));
        Assert.Equal(new Version(major, minor, build), version);
    }

    [Fact]
    public void Version_OlderThanMinimum_IsBelowMinimum()
    {
        Assert.True(OrtLibrary.TryParseVersion("1.16.3", out var version));
        Assert.True(version < OrtLibrary.MinimumVersion);
    }
}
