namespace Edge.Plugin.Abstractions.Tests;

public sealed class FrameTests
{
    [Fact]
    public void Rent_SizesPixelsToTheFormat()
    {
        using var frame = Frame.Rent(7, 5, PixelFormat.Rgb24, Clock.NowNs(), "test");

        Assert.Equal(21, frame.Stride);
        Assert.Equal(105, frame.Pixels.Length);
    }

    [Fact]
    public void Rent_WithoutASourceSize_IsItsOwnSource()
    {
        using var frame = Frame.Rent(7, 5, PixelFormat.Rgb24, Clock.NowNs(), "test");

        Assert.Equal((7, 5), (frame.SourceWidth, frame.SourceHeight));
    }

    [Fact]
    public void Rent_ScaledDown_KeepsTheSourceSize_AndSizesPixelsToTheFrame()
    {
        using var frame = Frame.Rent(160, 120, PixelFormat.Rgb24, Clock.NowNs(), "test", 640, 480);

        Assert.Equal((160, 120, 640, 480), (frame.Width, frame.Height, frame.SourceWidth, frame.SourceHeight));
        Assert.Equal(160 * 120 * 3, frame.Pixels.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => Frame.Rent(2, 2, PixelFormat.Rgb24, 0, "test", 0, 2));
    }

    [Fact]
    public void Pixels_AfterDispose_ThrowNamingTheSource()
    {
        var frame = Frame.Rent(2, 2, PixelFormat.Gray8, Clock.NowNs(), "cam0");
        frame.Dispose();
        frame.Dispose();

        var error = Assert.Throws<ObjectDisposedException>(() => frame.Pixels.Length);
        Assert.Contains("cam0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rent_AbsurdSize_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Frame.Rent(100_000, 100_000, PixelFormat.Rgb24, 0, "bomb"));
    }

    [Fact]
    public void ModelReference_ParsesPinAndScheme()
    {
        var reference = ModelReference.Parse("s3://models/detector/model.onnx#sha256=" + new string('A', 64));

        Assert.Equal("s3", reference.Scheme);
        Assert.Equal("s3://models/detector/model.onnx", reference.Location);
        Assert.Equal(new string('a', 64), reference.Sha256);
        Assert.False(reference.IsLocal);
        Assert.Equal("models/m.onnx", ModelReference.Parse("file://models/m.onnx").LocalPath);
        Assert.Throws<FormatException>(() => ModelReference.Parse("m.onnx#sha256=abc"));
    }
}
