using Edge.Plugin.Hosting.Inputs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

public sealed class FileSourceTests
{
    private static string Data => Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data");

    [Fact]
    public async Task Folder_YieldsEveryImageInNameOrderThenEnds()
    {
        await using var source = FrameSources.Create(Data);
        var names = new List<string>();
        while (await source.ReadAsync(default) is { } frame)
        {
            using (frame)
            {
                names.Add(Path.GetFileName(frame.Source));
                Assert.True(frame.TimestampNs > Measurement.MinimumTimestampNs);
            }
        }

        Assert.Equal(["forest.png", "red-apple.jpg", "sky.jpg"], names);
    }

    [Fact]
    public async Task Glob_MatchesOnlyItsPattern()
    {
        await using var source = FrameSources.Create(Path.Combine(Data, "*.jpg"));

        Assert.Equal(2, ((ImageFileSource)source).Count);
    }

    [Fact]
    public void MissingFile_NamesIt()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FrameSources.Create("/no/such/image.jpg"));

        Assert.Contains("/no/such/image.jpg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownScheme_SaysWhatThisBuildReads()
    {
        var error = Assert.Throws<NotSupportedException>(() => FrameSources.Create("gopher://camera:8090/live"));

        Assert.Contains("gopher://camera:8090/live", error.Message, StringComparison.Ordinal);
        Assert.Contains("rtsp://", error.Message, StringComparison.Ordinal);
    }
}
