using System.IO.Compression;
using Edge.Inference;
using Edge.Testing;

namespace Edge.Storage.S3.Tests;

/// <summary>Uploads, and archived models uploaded then fetched, against a real s3rver shared by the class.</summary>
public sealed class TransferTests(S3ServerFixture fixture) : S3TestBase(fixture), IClassFixture<S3ServerFixture>
{
    [Fact]
    public async Task LargeFile_IsUploadedInParts_AndComesBackIdentical_WithItsSha256()
    {
        var content = StorageBed.RandomBytes(13 << 20, seed: 3);
        var file = Path.Combine(Cache, "result.bin");
        await File.WriteAllBytesAsync(file, content);
        await using var bed = Bed(s3: o =>
        {
            o.MultipartThreshold = 5L << 20;
            o.PartSize = 5L << 20;
        });

        var uploaded = await Uploader(bed).UploadFileAsync(file, "outputs/result.bin");

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
        await using var bed = Bed();

        var uploaded = await Uploader(bed).UploadFileAsync(file, "small.txt");

        Assert.Equal(1, uploaded.Parts);
        using var http = new HttpClient();
        Assert.Equal("detections: 3", await http.GetStringAsync($"{Server.Endpoint}/{Bucket}/small.txt"));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/absolute.txt")]
    public async Task Upload_ToAHostileKey_IsRefused(string key)
    {
        var file = Path.Combine(Cache, "x.txt");
        await File.WriteAllTextAsync(file, "x");
        await using var bed = Bed();

        var error = await Assert.ThrowsAsync<FormatException>(() => Uploader(bed).UploadFileAsync(file, key));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
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
        await using var bed = Bed();
        await Uploader(bed).UploadFileAsync(archive, "2024-05-01/colour.tar.gz");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => bed.FetchAsync(S3Uri("latest/colour.tar.gz")));
        Assert.Contains("colour-classifier.onnx", error.Message, StringComparison.Ordinal);

        var single = Path.Combine(Cache, "single.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(single, System.IO.Compression.ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(RepoPaths.Model("colour-classifier.onnx"), "colour/model.onnx");
        }

        await Uploader(bed).UploadFileAsync(single, "2024-06-01/colour.zip");
        var path = await bed.FetchAsync(S3Uri("latest/colour.zip"));

        Assert.Equal("model.onnx", Path.GetFileName(path));
        using var session = OnnxModel.Load(path);
        Assert.Equal(["red", "green", "blue"], session.Labels);
    }
}
