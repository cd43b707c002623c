using System.Diagnostics;
using System.Globalization;
using Edge.Inference;
using Edge.Inference.Benchmarks;
using Edge.Plugin;

// Measures our Run against ort_bench (the same model through ORT's C API alone) in the same run,
// rounds interleaved so that machine noise hits both sides alike, and counts managed allocations
// per steady-state frame. See benchmarks/run-inference.sh and docs/inference.md.
var settings = HarnessSettings.Parse(args);
Console.WriteLine($"ONNX Runtime {OnnxRuntime.Version} at {OnnxRuntime.LibraryPath}; intra-op threads {settings.Threads}; {settings.Rounds} rounds; .NET {Environment.Version}; {Environment.ProcessorCount} CPUs");
using (var auto = InferenceSession.Load(Path.Combine(settings.Models, "add.onnx")))
{
    Console.WriteLine($"default session: {auto.Describe()}");
}

var tiny = new Comparison("tiny (add.onnx, 2x[1,4] floats)", Path.Combine(settings.Models, "add.onnx"), settings.TinyIterations);
var large = new Comparison("MobileNetV2-sized (mobilenet-v2-random.onnx, 3.5M params)", Path.Combine(settings.Models, "mobilenet-v2-random.onnx"), settings.LargeIterations);
for (var round = 1; round <= settings.Rounds; round++)
{
    foreach (var comparison in new[] { tiny, large })
    {
        var native = Reference.Run(settings, comparison.Model, comparison.Iterations);
        var managed = Managed.NsPerRun(comparison.Model, comparison.Iterations, settings.Threads);
        comparison.Add(native, managed);
        Console.WriteLine($"round {round} {comparison.Name}: C mean {native.Mean / 1000:F2} us (best batch {native.Best / 1000:F2}), .NET mean {managed.Mean / 1000:F2} us (best batch {managed.Best / 1000:F2})");
    }
}

Console.WriteLine();
Console.WriteLine(tiny.Summary(perCall: true));
Console.WriteLine(large.Summary(perCall: false));

var (frameBytes, tinyBytes) = Allocations.Measure(Path.Combine(settings.Models, "mobilenet-v2-random.onnx"), Path.Combine(settings.Models, "add.onnx"), settings.Threads);
Console.WriteLine($"allocated per steady-state frame (640x480 RGB -> resize/normalise -> MobileNetV2-sized run -> softmax -> top-5): {frameBytes} bytes (target 0)");
Console.WriteLine($"allocated per tiny Run with preallocated outputs: {tinyBytes} bytes (target 0)");

namespace Edge.Inference.Benchmarks
{
    internal sealed record HarnessSettings(string ReferenceBinary, string Library, string Models, int Rounds, int TinyIterations, int LargeIterations, int Threads)
    {
        public static HarnessSettings Parse(string[] args)
        {
            string Value(string name, string fallback)
            {
                var at = Array.IndexOf(args, name);
                return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
            }

            var reference = Value("--reference", string.Empty);
            if (!File.Exists(reference))
            {
                throw new ArgumentException($"--reference must name the compiled ort_bench (got '{reference}'); benchmarks/run-inference.sh builds it.");
            }

            int Number(string name, int fallback) => int.Parse(Value(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
            return new HarnessSettings(
                reference,
                Value("--library", OnnxRuntime.LibraryPath),
                Value("--models", "artifacts/models"),
                Number("--rounds", 5),
                Number("--tiny-iterations", 200_000),
                Number("--large-iterations", 40),
                Number("--threads", 1));
        }
    }

    /// <summary>Nanoseconds per run: the mean over all batches, and the fastest batch's mean.</summary>
    internal readonly record struct Timing(double Mean, double Best);

    /// <summary>One model's rounds, C and .NET.</summary>
    internal sealed class Comparison(string name, string model, int iterations)
    {
        private readonly List<Timing> _native = [];
        private readonly List<Timing> _managed = [];

        public string Name => name;

        public string Model => model;

        public int Iterations => iterations;

        public void Add(Timing native, Timing managed)
        {
            _native.Add(native);
            _managed.Add(managed);
        }

        /// <summary>
        /// Two estimates: medians of the round means, and the best batch of all rounds on each side,
        /// which is what remains when other load on the machine is least (the fairer one on a shared box).
        /// </summary>
        public string Summary(bool perCall)
        {
            string Overhead(double managed, double native) => perCall
                ? $"{(managed - native) / 1000:+0.00;-0.00} us per call"
                : $"{((managed / native) - 1) * 100:+0.0;-0.0}%";

            var medianNative = Median([.. _native.Select(t => t.Mean)]);
            var medianManaged = Median([.. _managed.Select(t => t.Mean)]);
            var bestNative = _native.Min(t => t.Best);
            var bestManaged = _managed.Min(t => t.Best);
            var target = perCall ? "<= 2 us per call" : "<= 2%";
            return $"{name}:{Environment.NewLine}" +
                $"  best batch: C {bestNative / 1000:F2} us, .NET {bestManaged / 1000:F2} us, ratio {bestManaged / bestNative:F3}, overhead {Overhead(bestManaged, bestNative)} (target {target}){Environment.NewLine}" +
                $"  median of round means: C {medianNative / 1000:F2} us, .NET {medianManaged / 1000:F2} us, ratio {medianManaged / medianNative:F3}, overhead {Overhead(medianManaged, medianNative)}; per round: {string.Join(", ", _managed.Zip(_native, (m, n) => Overhead(m.Mean, n.Mean)))}";
        }

        private static double Median(double[] values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    internal static class Reference
    {
        public static Timing Run(HarnessSettings settings, string model, int iterations)
        {
            var start = new ProcessStartInfo(settings.ReferenceBinary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                ArgumentList = { settings.Library, model, iterations.ToString(CultureInfo.InvariantCulture), settings.Threads.ToString(CultureInfo.InvariantCulture) },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !output.StartsWith("ns_per_run=", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"ort_bench failed ({process.ExitCode}): {output}{error}");
            }

            var fields = output.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
            return new Timing(fields["ns_per_run"], fields["min_batch_ns"]);
        }
    }

    internal static class Managed
    {
        public static InferenceSession Open(string model, int threads) =>
            InferenceSession.Load(model, new InferenceSessionOptions { IntraOpThreads = threads, InterOpThreads = 1, ExecutionProvider = { Name = "CPU" } });

        /// <summary>The same work as ort_bench: inputs and outputs made once, then ten batches of runs.</summary>
        public static Timing NsPerRun(string model, int iterations, int threads)
        {
            using var session = Open(model, threads);
            var inputs = session.Inputs.Select(i => (Tensor)Filled(i.Shape)).ToArray();
            var outputs = session.Outputs.Select(o => (Tensor)new Tensor<float>(o.Shape.ToArray())).ToArray();
            var warmup = (iterations / 10) + 1;
            for (var k = 0; k < warmup; k++)
            {
                session.Run(inputs, outputs);
            }

            var batch = Math.Max(iterations / 10, 1);
            var best = double.MaxValue;
            var total = Stopwatch.StartNew();
            for (var b = 0; b < 10; b++)
            {
                var clock = Stopwatch.StartNew();
                for (var k = 0; k < batch; k++)
                {
                    session.Run(inputs, outputs);
                }

                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / batch);
            }

            var elapsed = new Timing(total.Elapsed.TotalNanoseconds / (batch * 10), best);
            foreach (var tensor in inputs.Concat(outputs))
            {
                tensor.Dispose();
            }

            return elapsed;
        }

        private static Tensor<float> Filled(IReadOnlyList<long> shape)
        {
            var tensor = new Tensor<float>(shape.ToArray());
            var span = tensor.Span;
            for (var k = 0; k < span.Length; k++)
            {
                span[k] = k % 255 / 255f;
            }

            return tensor;
        }
    }

    internal static class Allocations
    {
        public static (long PerFrame, long PerTinyRun) Measure(string largeModel, string tinyModel, int threads)
        {
            long perFrame;
            using (var session = Managed.Open(largeModel, threads))
            using (var frame = Frame.Rent(640, 480, PixelFormat.Rgb24, Clock.NowNs(), "benchmark"))
            {
                new Random(5).NextBytes(frame.Pixels);
                var top = new Prediction[5];
                void OneFrame()
                {
                    var result = session.Run(frame);
                    var scores = result[0];
                    Scores.Softmax(scores);
                    Scores.Top(scores, session.Labels, top);
                }

                for (var i = 0; i < 3; i++)
                {
                    OneFrame();
                }

                const int frames = 20;
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < frames; i++)
                {
                    OneFrame();
                }

                perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / frames;
            }

            using var tiny = Managed.Open(tinyModel, threads);
            Tensor[] inputs = [new Tensor<float>([1, 4]), new Tensor<float>([1, 4])];
            Tensor[] outputs = [new Tensor<float>([1, 4])];
            for (var i = 0; i < 1000; i++)
            {
                tiny.Run(inputs, outputs);
            }

            const int runs = 10_000;
            var start = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < runs; i++)
            {
                tiny.Run(inputs, outputs);
            }

            var perRun = (GC.GetAllocatedBytesForCurrentThread() - start) / runs;
            foreach (var tensor in inputs.Concat(outputs))
            {
                tensor.Dispose();
            }

            return (perFrame, perRun);
        }
    }
}
