using Edge.Inference;
using Edge.Plugin;
using Edge.Testing;

namespace Edge.Storage.Tests;

/// <summary>Swapping in a new model version while frames still hold the old one.</summary>
public sealed class HotReloadTests
{
    [Fact]
    public void Swap_WhileAFrameHoldsTheOldSession_DisposesItOnlyWhenTheLeaseEnds()
    {
        using var model = new ReloadableModel(OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx")));
        using var frame = Frame.Rent(8, 8, PixelFormat.Rgb24, Clock.NowNs(), "test");
        var lease = model.Acquire();
        var old = lease.Model;

        model.Swap(OnnxModel.Load(RepoPaths.Model("colour-classifier-inverted.onnx")));
        _ = old.Run(frame);
        using (var next = model.Acquire())
        {
            Assert.NotSame(old, next.Model);
        }

        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => old.Run(frame));
    }
}
