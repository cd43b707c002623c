using System.Diagnostics;
using Edge.Testing;

namespace Edge.Inference.Tests;

public sealed class SessionOptionsTests
{
    [Fact]
    public void Run_CancelledWhileRunning_ThrowsOperationCanceledAndSessionStillWorks()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("slow-loop.onnx"), new InferenceSessionOptions { IntraOpThreads = 1 });
        using var iterations = Tensor.Wrap<long>(new long[] { long.MaxValue / 2 }, []);
        using var x = new Tensor<float>([64, 256]);
        using var y = new Tensor<float>([64, 256]);
        x.Span.Fill(0.5f);
        using var cts = new CancellationTokenSource();

        var clock = Stopwatch.StartNew();
        var run = Task.Run(() => session.Run([iterations, x], [y], cts.Token));
        Thread.Sleep(200);
        Assert.False(run.IsCompleted, "the long run ended before it was cancelled");
        cts.Cancel();

        // Without the terminate flag this run would take years; a generous bound still proves it stopped.
        Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "the run did not stop after cancellation");
        Assert.IsAssignableFrom<OperationCanceledException>(run.Exception?.InnerException);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));

        // The reused run options were reset: the next run with a live token completes.
        using var fresh = new CancellationTokenSource();
        using var three = Tensor.Wrap<long>(new long[] { 3 }, []);
        session.Run([three, x], [y], fresh.Token);
        Assert.All(y.Span.ToArray(), v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Run_ZeroIterations_ReturnsTheInput()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("slow-loop.onnx"));
        using var iterations = Tensor.Wrap<long>(new long[] { 0 }, []);
        using var x = new Tensor<float>([64, 256]);
        x.Span.Fill(0.25f);

        using var outputs = session.Run([iterations, x]);

        Assert.All(outputs[0].As<float>().ToArray(), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void OptimizedModelPath_WritesTheOptimisedModel()
    {
        var path = Path.Combine(Path.GetTempPath(), $"optimised-{Guid.NewGuid():N}.onnx");
        try
        {
            using var session = InferenceSession.Load(RepoPaths.Model("colour-classifier.onnx"), new InferenceSessionOptions { OptimizedModelPath = path });

            Assert.True(new FileInfo(path).Length > 0);
            using var reloaded = InferenceSession.Load(path);
            Assert.Equal("probabilities", reloaded.Outputs[0].Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Profiling_WritesAChromeTraceNamingTheNodes()
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"profile-{Guid.NewGuid():N}");
        string? trace = null;
        try
        {
            using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"), new InferenceSessionOptions { ProfilingPrefix = prefix });
            using var a = new Tensor<float>([1, 4]);
            using var b = new Tensor<float>([1, 4]);
            using var sum = new Tensor<float>([1, 4]);
            session.Run([a, b], [sum]);

            trace = session.EndProfiling();

            Assert.StartsWith(prefix, trace, StringComparison.Ordinal);
            var json = File.ReadAllText(trace);
            Assert.Contains("\"model_run\"", json, StringComparison.Ordinal);
            Assert.Contains("Add", json, StringComparison.Ordinal);
        }
        finally
        {
            if (trace is not null)
            {
                File.Delete(trace);
            }
        }
    }

    [Fact]
    public void EndProfiling_WhenOff_SaysHowToTurnItOn()
    {
        using var session = InferenceSession.Load(RepoPaths.Model("add.onnx"));

        var error = Assert.Throws<InvalidOperationException>(() => session.EndProfiling());

        Assert.Contains("ProfilingPrefix", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExecutionMode.Parallel, false, GraphOptimizationLevel.Disabled)]
    [InlineData(ExecutionMode.Sequential, true, GraphOptimizationLevel.Basic)]
    [InlineData(ExecutionMode.Sequential, false, GraphOptimizationLevel.Extended)]
    public void ThreadingAndOptimisationSettings_GiveTheSameAnswer(ExecutionMode mode, bool spin, GraphOptimizationLevel level)
    {
        var options = new InferenceSessionOptions { ExecutionMode = mode, AllowSpinning = spin, GraphOptimization = level, IntraOpThreads = 2, InterOpThreads = 2 };
        options.ConfigEntries["session.use_env_allocators"] = "0";
        using var session = InferenceSession.Load(RepoPaths.Model("colour-classifier.onnx"), options);
        using var frame = SessionTests.SolidFrame(32, 32, 10, 200, 10);

        var best = Scores.Top(session.Run(frame)[0], 1, session.Labels)[0];

        Assert.Equal("green", best.Label);
    }

    [Fact]
    public void UnknownExecutionMode_IsRejected()
    {
        var options = new InferenceSessionOptions { ExecutionMode = (ExecutionMode)7 };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => InferenceSession.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("ExecutionMode", error.Message, StringComparison.Ordinal);
    }
}
