using Edge.Plugin.Hosting.Codecs;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>JPEG DCT-domain scaling, checked pixel for pixel against djpeg -scale on a real 1080p image.</summary>
public sealed class CodecScalingTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"edge-1080p-{Guid.NewGuid():N}.jpg");

    public CodecScalingTests()
    {
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1", "-q:v", "3", "-y", _path]);
    }

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData(224, 224, "1/4", 480, 270)]
    [InlineData(200, 130, "1/8", 240, 135)]
    [InlineData(960, 540, "1/2", 960, 540)]
    [InlineData(1000, 10, "5/8", 1200, 675)]
    public void Jpeg_TargetSize_DecodesAtSmallestCoveringScale_AsDjpeg(int wantWidth, int wantHeight, string scale, int width, int height)
    {
        using var frame = ImageDecoder.Decode(File.ReadAllBytes(_path), _path, Clock.NowNs(), new FrameSize(wantWidth, wantHeight));
        var ppm = Tool.RunBinary("djpeg", ["-scale", scale, "-ppm", _path]);
        var header = System.Text.Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n");

        Assert.Equal((width, height), (frame.Width, frame.Height));
        Assert.True(frame.Width >= wantWidth && frame.Height >= wantHeight, "never below the target");
        Assert.Equal(header, ppm[..header.Length]);
        Assert.Equal(ppm[header.Length..], frame.Pixels.ToArray());
    }

    [Fact]
    public void Jpeg_TargetLargerThanImage_DecodesAtFullSizeNotUpsampled()
    {
        using var frame = ImageDecoder.Decode(File.ReadAllBytes(_path), _path, Clock.NowNs(), new FrameSize(4000, 3000));

        Assert.Equal((1920, 1080), (frame.Width, frame.Height));
    }

    [Fact]
    public void Png_TargetSize_IsIgnored()
    {
        var png = Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "forest.png");

        using var frame = ImageDecoder.Decode(File.ReadAllBytes(png), png, Clock.NowNs(), new FrameSize(32, 32));

        Assert.Equal(320, frame.Width);
    }
}
