using Edge.Testing;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

public sealed class BindingTests
{
    [Fact]
    public void BoundRun_WritesTheBoundOutput_AndSeesInputChanges()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        float[] left = [1, 2, 3, 4];
        float[] right = [10, 20, 30, 40];
        var sum = new float[4];
        using var add = new BoundAdd(model, left, right, sum);

        model.Run(add.Binding);
        Assert.Equal([11f, 22f, 33f, 44f], sum);

        // ORT reads the pinned array, not a copy made at bind time.
        Array.Fill(left, 0.5f);
        model.Run(add.Binding);
        Assert.Equal([10.5f, 20.5f, 30.5f, 40.5f], sum);
    }

    [Fact]
    public void SteadyStateBoundRun_WithALiveToken_AllocatesNoManagedBytes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), new OnnxModelOptions { IntraOpThreads = 1 });
        var sum = new float[4];
        using var add = new BoundAdd(model, [1, 1, 1, 1], [2, 2, 2, 2], sum);
        var binding = add.Binding;
        using var stopping = new CancellationTokenSource();

        var allocated = LeastAllocated(1000, () =>
        {
            model.Run(binding, stopping.Token);
            model.Run(binding);
        });

        Assert.Equal(0, allocated);
        Assert.Equal([3f, 3f, 3f, 3f], sum);
    }

    [Fact]
    public void SteadyStateFrame_PreprocessRunAndTopK_AllocatesNoManagedBytes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"), new OnnxModelOptions { IntraOpThreads = 1 });
        using var frame = ModelTests.SolidFrame(640, 480, 10, 200, 10);
        using var stopping = new CancellationTokenSource();
        var top = new Prediction[1];

        var allocated = LeastAllocated(50, () => Scores.Top(model.Run(frame, stopping.Token)["probabilities"], model.Labels, top));

        Assert.Equal(0, allocated);
        Assert.Equal("green", top[0].Label);
    }

    [Fact]
    public void CancelledBoundRun_Throws_AndTheNextRunCompletes()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        var sum = new float[4];
        using var add = new BoundAdd(model, [1, 1, 1, 1], [1, 1, 1, 1], sum);
        var binding = add.Binding;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() => model.Run(binding, cancelled.Token));
        model.Run(binding, CancellationToken.None);

        Assert.Equal([2f, 2f, 2f, 2f], sum);
    }

    [Fact]
    public void TokenCancelledBetweenRuns_DoesNotStopARunWithTheNextToken()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        var sum = new float[4];
        using var add = new BoundAdd(model, [1, 1, 1, 1], [1, 1, 1, 1], sum);
        var binding = add.Binding;
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        // The run options stay registered with the first token after this run, and it is cancelled while they wait.
        model.Run(binding, first.Token);
        first.Cancel();

        Assert.Throws<OperationCanceledException>(() => model.Run(binding, first.Token));
        Array.Clear(sum);
        model.Run(binding, second.Token);
        Assert.Equal([2f, 2f, 2f, 2f], sum);
    }

    [Fact]
    public void UnboundOutput_IsNamedInTheError()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));
        using var a = Values.Tensor(new float[4], 1, 4);
        using var binding = model.Session.CreateIoBinding();
        binding.BindInput("a", a);

        var error = Assert.Throws<InferenceException>(() => model.Run(binding));

        Assert.Contains("add.onnx", error.Message, StringComparison.Ordinal);
        Assert.IsType<OnnxRuntimeException>(error.InnerException);
    }

    /// <summary>add.onnx's a, b and sum bound to arrays once, as a plugin would bind them.</summary>
    private sealed class BoundAdd : IDisposable
    {
        private readonly OrtValue[] _values;

        public BoundAdd(OnnxModel model, float[] a, float[] b, float[] sum)
        {
            _values = [Values.Tensor(a, 1, 4), Values.Tensor(b, 1, 4), Values.Tensor(sum, 1, 4)];
            Binding = model.Session.CreateIoBinding();
            Binding.BindInput("a", _values[0]);
            Binding.BindInput("b", _values[1]);
            Binding.BindOutput("sum", _values[2]);
        }

        public OrtIoBinding Binding { get; }

        public void Dispose()
        {
            Binding.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// The fewest bytes this thread allocated in any of five windows of <paramref name="runs"/> calls,
    /// after a warm-up: the runtime's own first-call work (tiering, a type load) can land in one window,
    /// but a steady allocation shows in all of them.
    /// </summary>
    private static long LeastAllocated(int runs, Action body)
    {
        for (var i = 0; i < runs; i++)
        {
            body();
        }

        var least = long.MaxValue;
        for (var window = 0; window < 5; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < runs; i++)
            {
                body();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
