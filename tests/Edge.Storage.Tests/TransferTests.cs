using System.IO.Compression;
using Edge.Inference;
using Edge.Testing;

namespace Edge.Storage.Tests;

/// <summary>Uploads, HTTP references and archived models, against a real s3rver.</summary>
public sealed class TransferTests : S3TestBase
{
    [Fact]
    public async Task LargeFile_IsUploadedInParts_AndComesBackIdentical_WithItsSha256()
    {
        var content = StorageBed.RandomBytes(13 << 20, seed: 3);
        var file = Path.Combine(Cache, "result.bin");
        await File.WriteAllBytesAsync(file, content);
        await using var bed = new StorageBed(Server, Cache, o =>
        {
            o.S3.MultipartThreshold = 5L << 20;
            o.S3.PartSize = 5L << 20;
        });

        var uploaded = await bed.Uploader.UploadFileAsync(file, $"{Prefix}/outputs/result.bin");

        Assert.Equal(3, uploaded.Parts);
        Assert.Equal(StorageBed.Sha256(content), uploaded.Sha256);

        // Fetched back through the model source, which checks the sha256 metadata the upload stored.
        var path = await bed.FetchAsync(uploaded.Uri);
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task SmallFile_IsUploadedInOneRequest()
    {
        var file = Path.Combine(Cache, "small.txt");
        await File.WriteAllTextAsync(file, "detections: 3");
        await using var bed = new StorageBed(Server, Cache);

        var uploaded = await bed.Uploader.UploadFileAsync(file, $"{Prefix}/small.txt");

        Assert.Equal(1, uploaded.Parts);
        using var http = new HttpClient();
        Assert.Equal("detections: 3", await http.GetStringAsync($"{Server.Endpoint}/models/{Prefix}/small.txt"));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/absolute.txt")]
    public async Task Upload_ToAHostileKey_IsRefused(string key)
    {
        var file = Path.Combine(Cache, "x.txt");
        await File.WriteAllTextAsync(file, "x");
        await using var bed = new StorageBed(Server, Cache);

        var error = await Assert.ThrowsAsync<FormatException>(() => bed.Uploader.UploadFileAsync(file, key));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpReference_UnchangedIsNotDownloadedAgain_ChangedIs()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", "first"u8.ToArray());
        await using var bed = new StorageBed(Server, Cache);
        var url = $"{Server.Endpoint}/models/{Prefix}/m.onnx";

        var first = await bed.FetchAsync(url);
        var again = await bed.FetchAsync(url);
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", "second"u8.ToArray());
        var changed = await bed.FetchAsync(url);

        Assert.Equal(first, again);
        Assert.Equal("first", await File.ReadAllTextAsync(first));
        Assert.Equal("second", await File.ReadAllTextAsync(changed));
        Assert.Equal(2, bed.Source("http").Downloads);
    }

    [Fact]
    public async Task HttpReference_ServerDown_UsesTheCachedCopy()
    {
        await StorageBed.PutAsync(Server, $"{Prefix}/m.onnx", "cached"u8.ToArray());
        var url = $"{Server.Endpoint}/models/{Prefix}/m.onnx";
        await using (var before = new StorageBed(Server, Cache))
        {
            await before.FetchAsync(url);
        }

        Server.Kill();
        await using var after = new StorageBed(Server, Cache);
        var path = await after.FetchAsync(url);

        Assert.Equal("cached", await File.ReadAllTextAsync(path));
        Assert.True(after.Logs.Contains(Microsoft.Extensions.Logging.LogLevel.Warning, "OFFLINE"), after.Logs.ToString());
    }

    [Fact]
    public async Task ArchivedModel_InTheStore_UnpacksAndLoads()
    {
        var archive = Path.Combine(Cache, "colour.tar.gz");
        await using (var file = File.Create(archive))
        await using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            await System.Formats.Tar.TarFile.CreateFromDirectoryAsync(Path.GetDirectoryName(RepoPaths.Model("colour-classifier.onnx"))!, gzip, includeBaseDirectory: false);
        }

        // The models folder holds several .onnx files; a model.onnx beside them names the one to load.
        await using var bed = new StorageBed(Server, Cache);
        await bed.Uploader.UploadFileAsync(archive, $"{Prefix}/2024-05-01/colour.tar.gz");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => bed.FetchAsync($"s3://models/{Prefix}/latest/colour.tar.gz"));
        Assert.Contains("colour-classifier.onnx", error.Message, StringComparison.Ordinal);

        var single = Path.Combine(Cache, "single.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(single, System.IO.Compression.ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(RepoPaths.Model("colour-classifier.onnx"), "colour/model.onnx");
        }

        await bed.Uploader.UploadFileAsync(single, $"{Prefix}/2024-06-01/colour.zip");
        var path = await bed.FetchAsync($"s3://models/{Prefix}/latest/colour.zip");

        Assert.Equal("model.onnx", Path.GetFileName(path));
        using var session = OnnxModel.Load(path);
        Assert.Equal(["red", "green", "blue"], session.Labels);
    }
}
