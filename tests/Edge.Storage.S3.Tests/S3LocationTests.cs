namespace Edge.Storage.S3.Tests;

/// <summary>
/// s3:// references: keys that try to leave their folder are refused with the reason in the message, and
/// <c>latest</c> folder names are read as times.
/// </summary>
public sealed class S3LocationTests
{
    [Theory]
    [InlineData("s3://models/../etc/passwd", "'..' segment")]
    [InlineData("s3://models/a/../../b.onnx", "'..' segment")]
    [InlineData("s3://models//etc/passwd", "absolute path")]
    [InlineData("s3://models/a\\..\\b.onnx", "backslash")]
    [InlineData("s3://models/a/./b.onnx", "'.' segment")]
    [InlineData("s3://models/a\u0000b.onnx", "control character")]
    public void S3Reference_WithAHostileKey_IsRefused(string reference, string reason)
    {
        var error = Assert.Throws<FormatException>(() => S3Location.Parse(reference));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://Models/x.onnx")]
    [InlineData("s3://models")]
    [InlineData("s3://models/folder/")]
    [InlineData("s3://models/latest/x/latest")]
    public void S3Reference_Malformed_IsRefused(string reference) =>
        Assert.Throws<FormatException>(() => S3Location.Parse(reference));

    [Fact]
    public void S3Reference_WithLatest_SplitsPrefixAndFile()
    {
        var location = S3Location.Parse("s3://models/face/latest/model.data");

        Assert.Equal(("models", "face/", "model.data"), (location.Bucket, location.LatestPrefix, location.LatestRest));
    }

    [Theory]
    [InlineData("2024-03-01T09-30-00")]
    [InlineData("2024-03-01T09:30:00Z")]
    [InlineData("20240301-093000")]
    [InlineData("20240301093000")]
    [InlineData("1709285400")]
    public void VersionFolder_CommonTimestampShapes_AreRead(string name)
    {
        Assert.True(VersionFolders.TryParse(name, out var time));
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 9, 30, 0, TimeSpan.Zero), time);
    }

    [Fact]
    public void VersionFolder_Newest_ComparesTimesNotText()
    {
        Assert.Equal("1709285400", VersionFolders.Newest(["2024-01-01", "1709285400", "notes", "20231231235959"]));
        Assert.Null(VersionFolders.Newest(["notes", "backup"]));
    }
}
