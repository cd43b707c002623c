using System.Formats.Tar;
using System.IO.Compression;
using Edge.Storage.Archives;

namespace Edge.Storage.Tests;

/// <summary>Archive entries that try to leave their folder, or unpack beyond the limits, are refused with the name in the message.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("archives-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("../evil.onnx")]
    [InlineData("models/../../evil.onnx")]
    [InlineData("/tmp/evil.onnx")]
    public void Zip_WithAnEscapingEntry_IsRefused_AndNothingIsWrittenOutside(string entryName)
    {
        var archive = Path.Combine(_dir, "model.zip");
        using (var zip = ZipFile.Open(archive, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry(entryName).Open());
            writer.Write("payload");
        }

        var target = Path.Combine(_dir, "out", "contents");
        var error = Assert.Throws<InvalidDataException>(() => ArchiveUnpacker.UnpackOnce(archive, target, new ArchiveLimits()));

        Assert.Contains(entryName, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
        Assert.False(File.Exists(Path.Combine(_dir, "evil.onnx")));
        Assert.False(File.Exists("/tmp/evil.onnx"));
    }

    [Theory]
    [InlineData("../evil.onnx")]
    [InlineData("/tmp/evil.onnx")]
    public void TarGz_WithAnEscapingEntry_IsRefused(string entryName)
    {
        var archive = WriteTarGz("model.tar.gz", (entryName, "payload"u8.ToArray()));

        var error = Assert.Throws<InvalidDataException>(() => ArchiveUnpacker.UnpackOnce(archive, Path.Combine(_dir, "contents"), new ArchiveLimits()));

        Assert.Contains(entryName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TarGz_WithASymlink_IsRefused()
    {
        var archive = Path.Combine(_dir, "link.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "model.onnx") { LinkName = "/etc/passwd" });
        }

        var error = Assert.Throws<InvalidDataException>(() => ArchiveUnpacker.UnpackOnce(archive, Path.Combine(_dir, "contents"), new ArchiveLimits()));

        Assert.Contains("SymbolicLink", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zip_ThatUnpacksBeyondTheEntryLimit_IsRefused()
    {
        // 4 MiB of zeros compresses to a few KiB: the limit must count bytes written, not bytes stored.
        var archive = Path.Combine(_dir, "bomb.zip");
        using (var zip = ZipFile.Open(archive, ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("model.onnx").Open())
        {
            entry.Write(new byte[4 << 20]);
        }

        var error = Assert.Throws<InvalidDataException>(() => ArchiveUnpacker.UnpackOnce(archive, Path.Combine(_dir, "contents"), new ArchiveLimits { MaxEntryBytes = 1 << 20 }));

        Assert.Contains("MaxEntryBytes", error.Message, StringComparison.Ordinal);
        Assert.True(new FileInfo(archive).Length < 1 << 20);
    }

    [Fact]
    public void TarGz_WithTooManyEntries_IsRefused()
    {
        var archive = WriteTarGz("many.tar.gz", [.. Enumerable.Range(0, 20).Select(i => ($"f{i}.txt", new byte[] { 1 }))]);

        var error = Assert.Throws<InvalidDataException>(() => ArchiveUnpacker.UnpackOnce(archive, Path.Combine(_dir, "contents"), new ArchiveLimits { MaxEntries = 10 }));

        Assert.Contains("MaxEntries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TarGz_Safe_UnpacksAndFindsTheModel()
    {
        var archive = WriteTarGz("model.tar.gz", ("detector/labels.txt", "a\nb"u8.ToArray()), ("detector/model.onnx", "onnx bytes"u8.ToArray()));

        var folder = ArchiveUnpacker.UnpackOnce(archive, Path.Combine(_dir, "contents"), new ArchiveLimits());

        Assert.Equal(Path.Combine(folder, "detector", "model.onnx"), ArchiveUnpacker.ModelIn(folder));
        Assert.Equal("a\nb", File.ReadAllText(Path.Combine(folder, "detector", "labels.txt")));
    }

    private string WriteTarGz(string name, params (string Name, byte[] Content)[] entries)
    {
        var archive = Path.Combine(_dir, name);
        using var file = File.Create(archive);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip);
        foreach (var (entryName, content) in entries)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entryName) { DataStream = new MemoryStream(content) });
        }

        return archive;
    }
}
