using System.Diagnostics;
using Edge.Testing;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

public sealed class ModelOptionsTests
{
    [Fact]
    public void Run_CancelledWhileRunning_ThrowsOperationCanceledAndModelStillWorks()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("slow-loop.onnx"), new OnnxModelOptions { IntraOpThreads = 1 });
        var (iterationsName, xName) = (model.Inputs[0].Name, model.Inputs[1].Name);
        using var iterations = Values.Tensor(new long[] { long.MaxValue / 2 }, []);
        using var x = Values.Tensor(Enumerable.Repeat(0.5f, 64 * 256).ToArray(), 64, 256);
        using var cts = new CancellationTokenSource();

        using var started = new ManualResetEventSlim();
        var clock = Stopwatch.StartNew();
        var run = Task.Run(() =>
        {
            started.Set();
            return model.Run(new Dictionary<string, OrtValue> { [iterationsName] = iterations, [xName] = x }, cts.Token);
        });
        // On a loaded machine the task may start late; cancelling before the run began would test only the early check.
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the run's task never started");
        Thread.Sleep(300);
        Assert.False(run.IsCompleted, "the long run ended before it was cancelled");
        cts.Cancel();

        // Without the terminate flag this run would take years; a generous bound still proves it stopped.
        Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "the run did not stop after cancellation");
        Assert.IsAssignableFrom<OperationCanceledException>(run.Exception?.InnerException);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));

        // The reused run options were reset: the next run with a live token completes.
        using var fresh = new CancellationTokenSource();
        using var three = Values.Tensor(new long[] { 3 }, []);
        using var outputs = model.Run(new Dictionary<string, OrtValue> { [iterationsName] = three, [xName] = x }, fresh.Token);
        Assert.All(Values.Read<float>(outputs[0]), v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Run_ZeroIterations_ReturnsTheInput()
    {
        using var model = OnnxModel.Load(RepoPaths.Model("slow-loop.onnx"));
        using var iterations = Values.Tensor(new long[] { 0 }, []);
        using var x = Values.Tensor(Enumerable.Repeat(0.25f, 64 * 256).ToArray(), 64, 256);

        using var outputs = model.Run(new Dictionary<string, OrtValue> { [model.Inputs[0].Name] = iterations, [model.Inputs[1].Name] = x });

        Assert.All(Values.Read<float>(outputs[0]), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void RuntimesOwnWarnings_ReachTheHostsLogger()
    {
        var log = new ExecutionProviderTests.ListLogger();
        var previous = OrtLog.Logger;
        OrtLog.Logger = log;
        try
        {
            using var model = OnnxModel.Load(RepoPaths.Model("unused-initializer.onnx"));
        }
        finally
        {
            OrtLog.Logger = previous;
        }

        lock (log.Lines)
        {
            Assert.Contains(log.Lines, l => l.StartsWith("Warning: onnxruntime: ", StringComparison.Ordinal) && l.Contains("forgotten_weight", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ConfigureSession_ReachesTheRuntimesOwnOptions()
    {
        // A free-dimension override is one of the runtime's options this SDK does not name itself.
        var options = new OnnxModelOptions { ConfigureSession = o => o.AddFreeDimensionOverrideByName("batch", 2) };

        using var model = OnnxModel.Load(RepoPaths.Model("dynamic-relu.onnx"), options);
        using var two = Values.Tensor(new float[] { -1, 2, -3, 4, -5, 6 }, 2, 3);
        using var three = Values.Tensor(new float[] { -1, 2, -3, 4, -5, 6, -7, 8, -9 }, 3, 3);

        using var outputs = model.Run(new Dictionary<string, OrtValue> { [model.Inputs[0].Name] = two });
        Assert.Equal([0f, 2, 0, 4, 0, 6], Values.Read<float>(outputs[0]));
        // Without the override the model takes any batch; with it, only 2.
        Assert.Throws<InferenceException>(() => model.Run(new Dictionary<string, OrtValue> { [model.Inputs[0].Name] = three }));
    }

    [Fact]
    public void OptimizedModelPath_WritesTheOptimisedModel()
    {
        var path = Path.Combine(Path.GetTempPath(), $"optimised-{Guid.NewGuid():N}.onnx");
        try
        {
            using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"), new OnnxModelOptions { OptimizedModelPath = path });

            Assert.True(new FileInfo(path).Length > 0);
            using var reloaded = OnnxModel.Load(path);
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
            using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"), new OnnxModelOptions { ProfilingPrefix = prefix });
            using var a = Values.Tensor(new float[4], 1, 4);
            using var outputs = model.Run(new Dictionary<string, OrtValue> { ["a"] = a, ["b"] = a });

            trace = model.EndProfiling();

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
        using var model = OnnxModel.Load(RepoPaths.Model("add.onnx"));

        var error = Assert.Throws<InvalidOperationException>(() => model.EndProfiling());

        Assert.Contains("ProfilingPrefix", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OperatorScheduling.Parallel, false, GraphOptimization.Disabled)]
    [InlineData(OperatorScheduling.Sequential, true, GraphOptimization.Basic)]
    [InlineData(OperatorScheduling.Sequential, false, GraphOptimization.Extended)]
    public void ThreadingAndOptimisationSettings_GiveTheSameAnswer(OperatorScheduling mode, bool spin, GraphOptimization level)
    {
        var options = new OnnxModelOptions { OperatorScheduling = mode, AllowSpinning = spin, GraphOptimization = level, IntraOpThreads = 2, InterOpThreads = 2 };
        options.ConfigEntries["model.use_env_allocators"] = "0";
        using var model = OnnxModel.Load(RepoPaths.Model("colour-classifier.onnx"), options);
        using var frame = ModelTests.SolidFrame(32, 32, 10, 200, 10);

        var best = Scores.Top(model.Run(frame)[0], 1, model.Labels)[0];

        Assert.Equal("green", best.Label);
    }

    [Fact]
    public void UnknownOperatorScheduling_IsRejected()
    {
        var options = new OnnxModelOptions { OperatorScheduling = (OperatorScheduling)7 };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxModel.Load(RepoPaths.Model("add.onnx"), options));

        Assert.Contains("OperatorScheduling", error.Message, StringComparison.Ordinal);
    }
}
