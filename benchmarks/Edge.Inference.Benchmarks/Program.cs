using System.Diagnostics;
using System.Globalization;
using Edge.Inference;
using Edge.Inference.Benchmarks;
using Edge.Plugin;

// Measures our Run against ort_bench (the same model through ORT's C API alone) in the same run,
// rounds interleaved so that machine noise hits both sides alike, and counts managed allocations
// per steady-state frame. See benchmarks/run-inference.sh and docs/inference.md.
var settings = HarnessSettings.Parse(args);
Console.WriteLine($"ONNX Runtime {OnnxRuntime.Version} at {OnnxRuntime.LibraryPath}; intra-op threads {settings.Threads}, inter-op 1; {settings.Rounds} rounds; {settings.TinyIterations} tiny / {settings.LargeIterations} large runs per side per round; .NET {Environment.Version}; {Environment.ProcessorCount} CPUs");
using (var auto = InferenceSession.Load(Path.Combine(settings.Models, "add.onnx")))
{
    Console.WriteLine($"default session: {auto.Describe()}");
}

var tiny = new Comparison("tiny (add.onnx, 2x[1,4] floats)", Path.Combine(settings.Models, "add.onnx"), settings.TinyIterations);
var large = new Comparison("MobileNetV2-sized (mobilenet-v2-random.onnx, 3.5M params)", Path.Combine(settings.Models, "mobilenet-v2-random.onnx"), settings.LargeIterations);
// One discarded .NET pass per model first: the first timed batches in a fresh process otherwise run
// partly tier-0 code while the tiered JIT recompiles on a background thread, which is start-up, not
// steady-state, cost.
foreach (var comparison in new[] { tiny, large })
{
    Managed.NsPerRun(comparison.Model, comparison.Iterations, settings.Threads);
}

for (var round = 1; round <= settings.Rounds; round++)
{
    foreach (var comparison in new[] { tiny, large })
    {
        // Which side goes first alternates, so a load change that drifts through a round favours neither.
        Timing native, managed;
        if (round % 2 == 1)
        {
            native = Reference.Run(settings, comparison.Model, comparison.Iterations);
            managed = Managed.NsPerRun(comparison.Model, comparison.Iterations, settings.Threads);
        }
        else
        {
            managed = Managed.NsPerRun(comparison.Model, comparison.Iterations, settings.Threads);
            native = Reference.Run(settings, comparison.Model, comparison.Iterations);
        }

        comparison.Add(native, managed);
        Console.WriteLine($"round {round} {comparison.Name}: wall C {native.Mean / 1000:F2} us, .NET {managed.Mean / 1000:F2} us; thread CPU C {native.Cpu / 1000:F2} us, .NET {managed.Cpu / 1000:F2} us; process/thread CPU C {native.ProcessCpu / native.Cpu:F3}, .NET {managed.ProcessCpu / managed.Cpu:F3}{(managed.OtherThreads.Length > 0 ? $" (.NET's other threads: {managed.OtherThreads})" : string.Empty)}");
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
                Number("--rounds", 9),
                Number("--tiny-iterations", 200_000),
                Number("--large-iterations", 20),
                Number("--threads", 1));
        }
    }

    /// <summary>
    /// Nanoseconds per run over the ten timed batches: wall-clock mean and fastest batch; the calling
    /// thread's CPU time, mean and least batch; and the whole process's CPU time over the same span.
    /// </summary>
    internal readonly record struct Timing(double Mean, double Best, double Cpu, double BestCpu, double ProcessCpu, string OtherThreads = "");

    /// <summary>
    /// CPU time of this process's other threads, by name, from /proc/self/task/*/schedstat (nanoseconds
    /// on the CPU): it names whatever made process CPU exceed the calling thread's (ORT pool threads would
    /// show here; so do the runtime's JIT and GC threads).
    /// </summary>
    internal static class OtherThreads
    {
        public static Dictionary<string, (string Name, long Ns)> Snapshot()
        {
            var self = File.ReadAllText("/proc/thread-self/stat").Split(' ')[0];
            var threads = new Dictionary<string, (string Name, long Ns)>();
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                var id = Path.GetFileName(task);
                try
                {
                    if (id != self)
                    {
                        threads[id] = (File.ReadAllText(Path.Combine(task, "comm")).Trim(), long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[0], CultureInfo.InvariantCulture));
                    }
                }
                catch (IOException)
                {
                    // The thread ended between listing and reading: it has nothing more to count.
                }
            }

            return threads;
        }

        public static string Since(Dictionary<string, (string Name, long Ns)> before)
        {
            var busy = Snapshot()
                .Select(t => (t.Value.Name, Ns: t.Value.Ns - (before.TryGetValue(t.Key, out var b) ? b.Ns : 0)))
                .Where(t => t.Ns > 0)
                .GroupBy(t => t.Name, (name, group) => (Name: name, Ns: group.Sum(t => t.Ns)))
                .OrderByDescending(t => t.Ns);
            return string.Join(", ", busy.Select(t => $"'{t.Name}' {t.Ns / 1e6:F2} ms"));
        }
    }

    /// <summary>
    /// CPU-time clocks. On a shared machine wall time also counts the time this thread waited for a core
    /// that another process held; the thread's CPU time counts only the time it ran, so it is what a run
    /// costs whatever else is scheduled. Linux clock ids from &lt;time.h&gt;.
    /// </summary>
    internal static partial class CpuClock
    {
        private const int ProcessCpuTimeId = 2;
        private const int ThreadCpuTimeId = 3;

        public static double ThreadNs() => Read(ThreadCpuTimeId);

        public static double ProcessNs() => Read(ProcessCpuTimeId);

        private static double Read(int clock)
        {
            if (ClockGetTime(clock, out var time) != 0)
            {
                throw new InvalidOperationException($"clock_gettime({clock}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}; the CPU-time figures need Linux.");
            }

            return (time.Seconds * 1e9) + time.Nanoseconds;
        }

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
        private static partial int ClockGetTime(int clock, out TimeSpec time);

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private readonly struct TimeSpec
        {
            public readonly long Seconds;
            public readonly long Nanoseconds;
        }
    }

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
        /// Wall clock (median of round means, and best batch of all rounds: what remains when other load is
        /// least) next to the calling thread's CPU time (median of round means, the per-round spread, and
        /// least batch), which other processes on the machine disturb far less; then the process/thread
        /// CPU ratio on each side, which is about 1 only if all of a run's work happened on the calling thread.
        /// </summary>
        public string Summary(bool perCall)
        {
            string Overhead(double managed, double native) => perCall
                ? $"{(managed - native) / 1000:+0.00;-0.00;0.00} us per call"
                : $"{((managed / native) - 1) * 100:+0.0;-0.0;0.0}%";
            string Line(string label, double native, double managed) =>
                $"  {label}: C {native / 1000:F2} us, .NET {managed / 1000:F2} us, ratio {managed / native:F3}, overhead {Overhead(managed, native)}";
            string Spread(Func<Timing, double> measure)
            {
                var rounds = _managed.Zip(_native, (m, n) => perCall ? measure(m) - measure(n) : measure(m) / measure(n)).ToArray();
                var ordered = rounds.Order().ToArray();
                string Show(double value) => perCall ? $"{value / 1000:+0.00;-0.00;0.00} us" : $"{(value - 1) * 100:+0.0;-0.0;0.0}%";
                return $"per round {string.Join(", ", rounds.Select(Show))}; range {Show(ordered[0])} .. {Show(ordered[^1])}, median {Show(Median(rounds))}";
            }

            string Ratio(List<Timing> side)
            {
                var ratios = side.Select(t => t.ProcessCpu / t.Cpu).ToArray();
                return $"median {Median(ratios):F3}, max {ratios.Max():F3}";
            }

            var target = perCall ? "<= 2 us per call" : "<= 2%";
            return $"{name}:{Environment.NewLine}" +
                $"{Line("wall, best batch", _native.Min(t => t.Best), _managed.Min(t => t.Best))} (target {target}){Environment.NewLine}" +
                $"{Line("wall, median of round means", Median([.. _native.Select(t => t.Mean)]), Median([.. _managed.Select(t => t.Mean)]))}{Environment.NewLine}" +
                $"    {Spread(t => t.Mean)}{Environment.NewLine}" +
                $"{Line("thread CPU, median of round means", Median([.. _native.Select(t => t.Cpu)]), Median([.. _managed.Select(t => t.Cpu)]))} (target {target}){Environment.NewLine}" +
                $"    {Spread(t => t.Cpu)}{Environment.NewLine}" +
                $"{Line("thread CPU, least batch", _native.Min(t => t.BestCpu), _managed.Min(t => t.BestCpu))}{Environment.NewLine}" +
                $"  process CPU / thread CPU over the timed batches (1.000 = all work on the calling thread): C {Ratio(_native)}; .NET {Ratio(_managed)}";
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
            return new Timing(fields["ns_per_run"], fields["min_batch_ns"], fields["cpu_ns_per_run"], fields["min_batch_cpu_ns"], fields["process_cpu_ns_per_run"]);
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
            var bestCpu = double.MaxValue;

            // The process window encloses the thread window, as in ort_bench.
            var threadsBefore = OtherThreads.Snapshot();
            var processStart = CpuClock.ProcessNs();
            var total = Stopwatch.StartNew();
            var cpuStart = CpuClock.ThreadNs();
            for (var b = 0; b < 10; b++)
            {
                var clock = Stopwatch.StartNew();
                var batchCpuStart = CpuClock.ThreadNs();
                for (var k = 0; k < batch; k++)
                {
                    session.Run(inputs, outputs);
                }

                bestCpu = Math.Min(bestCpu, (CpuClock.ThreadNs() - batchCpuStart) / batch);
                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / batch);
            }

            var cpu = CpuClock.ThreadNs() - cpuStart;
            var wall = total.Elapsed.TotalNanoseconds;
            var process = CpuClock.ProcessNs() - processStart;
            var others = OtherThreads.Since(threadsBefore);
            var runs = batch * 10.0;
            var elapsed = new Timing(wall / runs, best, cpu / runs, bestCpu, process / runs, others);
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
