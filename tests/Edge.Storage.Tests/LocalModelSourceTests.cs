using System.Security.Cryptography;
using Edge.Plugin;
using Edge.Testing;

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

    // Hashing a pinned model reads it: a FIFO would block the start for good and /dev/zero never ends.
    // The wait is only there so that a regression fails this test instead of hanging the run.
    [Fact]
    public async Task PinnedHash_OnAFifo_IsRefusedByType_WithoutOpeningIt()
    {
        var folder = Directory.CreateTempSubdirectory("edge-model-fifo-").FullName;
        try
        {
            var fifo = Path.Combine(folder, "model.onnx");
            var made = Tool.Run("mkfifo", [fifo]);
            Assert.True(made.ExitCode == 0, made.ToString());

            var error = await Assert.ThrowsAsync<IOException>(async () =>
                await new LocalModelSource().GetLocalPathAsync(ModelReference.Parse($"{fifo}#sha256={new string('0', 64)}"), default).AsTask().WaitAsync(TimeSpan.FromMinutes(1)));

            Assert.Contains($"Model file {fifo} is a FIFO (named pipe)", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task PinnedHash_OnDevZero_IsRefusedAsACharacterDevice()
    {
        var error = await Assert.ThrowsAsync<IOException>(async () =>
            await new LocalModelSource().GetLocalPathAsync(ModelReference.Parse($"/dev/zero#sha256={new string('0', 64)}"), default).AsTask().WaitAsync(TimeSpan.FromMinutes(1)));

        Assert.Contains("Model file /dev/zero is a character device", error.Message, StringComparison.Ordinal);
    }
}
