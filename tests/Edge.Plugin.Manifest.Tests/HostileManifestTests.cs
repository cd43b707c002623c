using System.Text;

namespace Edge.Plugin.Manifest.Tests;

/// <summary>
/// The validator runs in every emitted project's build: a manifest that is not text, far too large or
/// nested without end is a problem it reports, never a crash, a hang or gigabytes of memory.
/// </summary>
public sealed class HostileManifestTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edge-manifest-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("sage.json")]
    [InlineData("sage.yaml")]
    public void NotUtf8_IsAProblemNamingTheByte(string name)
    {
        var path = Write(name, [.. "{\"name\": \"caf"u8.ToArray(), 0xE9, .. "\"}"u8.ToArray()]);

        var problem = Assert.Single(SageManifest.ValidateFile(path));

        Assert.Contains("not UTF-8 text", problem.Rule, StringComparison.Ordinal);
        Assert.Contains("at byte offset 13 (0xE9)", problem.Rule, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sage.json", "{\"a\": ", "[", "]", "}")]
    [InlineData("sage.yaml", "a: ", "[", "]", "")]
    public void DeeplyNested_IsAProblem_NotAStackOverflow(string name, string head, string open, string close, string tail)
    {
        var depth = 50_000;
        var text = head + string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth)) + tail;

        var problems = SageManifest.ValidateFile(Write(name, Encoding.UTF8.GetBytes(text)));

        Assert.Contains(problems, p => p.Rule.Contains("nested", StringComparison.Ordinal) || p.Rule.Contains("depth", StringComparison.Ordinal));
    }

    [Fact]
    public void FarTooLarge_IsAProblemNamingTheLimit()
    {
        var path = Write("sage.json", Encoding.UTF8.GetBytes("{\"description\": \"" + new string('x', 2 * 1024 * 1024) + "\"}"));

        var problem = Assert.Single(SageManifest.ValidateFile(path));

        Assert.Contains("over the 1048576-byte limit", problem.Rule, StringComparison.Ordinal);
    }
}
