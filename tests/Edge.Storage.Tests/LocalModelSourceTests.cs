using System.Security.Cryptography;
using Edge.Plugin;

namespace Edge.Storage.Tests;

public sealed class LocalModelSourceTests
{
    [Fact]
    public async Task PinnedHash_Matching_ReturnsFullPath()
    {
        var path = Path.GetTempFileName();
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        var hash = Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 }));

        var local = await new LocalModelSource().GetLocalPathAsync(ModelReference.Parse($"{path}#sha256={hash}"), default);

        Assert.Equal(Path.GetFullPath(path), local);
    }

    [Fact]
    public async Task PinnedHash_Mismatch_NamesBothHashes()
    {
        var path = Path.GetTempFileName();
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        var wrong = new string('0', 64);

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
            await new LocalModelSource().GetLocalPathAsync(ModelReference.Parse($"file://{path}#sha256={wrong}"), default));

        Assert.Contains(wrong, error.Message, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 })), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_NamesThePath()
    {
        var error = await Assert.ThrowsAsync<FileNotFoundException>(async () =>
            await new LocalModelSource().GetLocalPathAsync(ModelReference.Parse("/no/such/model.onnx"), default));

        Assert.Contains("/no/such/model.onnx", error.Message, StringComparison.Ordinal);
    }
}
