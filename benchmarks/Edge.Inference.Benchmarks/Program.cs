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

var tiny = new Comparison("tiny (add.onnx, 2x[1,4] floats)", Path.Combine(settings.Models, "add.onnx"), settings.TinyIterations);
var large = new Comparison("MobileNetV2-sized (mobilenet-v2-random.onnx, 3.5M params)", Path.Combine(settings.Models, "mobilenet-v2-random.onnx"), settings.LargeIterations);
for (var round = 1; round <= settings.Rounds; round++)
{
    foreach (var comparison in new[] { tiny, large })
    {
        var native = Reference.Run(settings, comparison.Model, comparison.Iterations);
        var managed = Managed.NsPerRun(comparison.Model, comparison.Iterations, settings.Threads);
        comparison.Add(native, managed);
        Console.WriteLine($"round {round} {comparison.Name}: C {native / 1000:F2} us, .NET {managed / 1000:F2} us");
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

    /// <summary>One model's rounds: C and .NET nanoseconds per run.</summary>
    internal sealed class Comparison(string name, string model, int iterations)
    {
        private readonly List<double> _native = [];
        private readonly List<double> _managed = [];

        public string Name => name;

        public string Model => model;

        public int Iterations => iterations;

        public void Add(double native, double managed)
        {
            _native.Add(native);
            _managed.Add(managed);
        }

        public string Summary(bool perCall)
        {
            var native = Median(_native);
            var managed = Median(_managed);
            var pairs = _managed.Zip(_native, (m, n) => perCall ? $"{(m - n) / 1000:+0.00;-0.00} us" : $"{((m / n) - 1) * 100:+0.0;-0.0}%");
            var verdict = perCall
                ? $"overhead {(managed - native) / 1000:F2} us per call (target <= 2 us)"
                : $"overhead {((managed / native) - 1) * 100:F1}% (target <= 2%)";
            return $"{name}: median C {native / 1000:F2} us, .NET {managed / 1000:F2} us, ratio {managed / native:F3}; {verdict}; per round: {string.Join(", ", pairs)}";
        }

        private static double Median(List<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    internal static class Reference
    {
        public static double Run(HarnessSettings settings, string model, int iterations)
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

            return double.Parse(output["ns_per_run=".Length..].Trim(), CultureInfo.InvariantCulture);
        }
    }

    internal static class Managed
    {
        public static InferenceSession Open(string model, int threads) =>
            InferenceSession.Load(model, new InferenceSessionOptions { IntraOpThreads = threads, InterOpThreads = 1, ExecutionProvider = { Name = "CPU" } });

        /// <summary>The same work as ort_bench: inputs and outputs made once, then Run in a loop.</summary>
        public static double NsPerRun(string model, int iterations, int threads)
        {
            using var session = Open(model, threads);
            var inputs = session.Inputs.Select(i => (Tensor)Filled(i.Shape)).ToArray();
            var outputs = session.Outputs.Select(o => (Tensor)new Tensor<float>(o.Shape.ToArray())).ToArray();
            var warmup = (iterations / 10) + 1;
            for (var k = 0; k < warmup; k++)
            {
                session.Run(inputs, outputs);
            }

            var clock = Stopwatch.StartNew();
            for (var k = 0; k < iterations; k++)
            {
                session.Run(inputs, outputs);
            }

            var elapsed = clock.Elapsed.TotalNanoseconds / iterations;
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
