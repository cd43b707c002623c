using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Edge.Inference;
using Edge.Inference.Benchmarks;
using Edge.Plugin;
using Microsoft.ML.OnnxRuntime;

// Measures OnnxModel's run paths against ort_bench (the same model through ORT's C API alone, on the
// same libonnxruntime.so file) in one process tree, rounds interleaved so that machine noise hits
// every side alike; then counts managed allocations per steady-state run. See
// benchmarks/run-inference.sh and docs/inference.md.
var settings = HarnessSettings.Parse(args);
Console.WriteLine($"ONNX Runtime {OnnxRuntimeLibrary.Version} at {OnnxRuntimeLibrary.LibraryPath} (managed {OnnxRuntimeLibrary.ManagedVersion}); C reference loads {Path.GetFullPath(settings.Library)}; intra-op threads {settings.Threads}, inter-op 1; {settings.Rounds} rounds; .NET {Environment.Version}; {Environment.ProcessorCount} CPUs");
if (!SameFile(OnnxRuntimeLibrary.LibraryPath, settings.Library))
{
    throw new InvalidOperationException($".NET loaded {OnnxRuntimeLibrary.LibraryPath} but the C reference is given {settings.Library}: the comparison needs one file.");
}

using (var auto = OnnxModel.Load(Path.Combine(settings.Models, "add.onnx")))
{
    Console.WriteLine($"default model: {auto.Describe()}");
}

Case[] cases =
[
    new("tiny", "add.onnx", settings.TinyIterations, Image: false),
    new("small image", "colour-classifier.onnx", settings.SmallIterations, Image: true),
    new("MobileNetV2-sized", "mobilenet-v2-random.onnx", settings.LargeIterations, Image: true),
];
if (settings.Only is { } only)
{
    cases = [.. cases.Where(c => c.File == only)];
}

using var sides = new Sides(settings, cases);

// One discarded pass of every .NET side first: the first timed batches in a fresh process otherwise run
// partly tier-0 code while the tiered JIT recompiles on a background thread, which is start-up, not
// steady-state, cost.
foreach (var side in sides.All.Where(s => s.IsManaged))
{
    side.Measure();
}

for (var round = 1; round <= settings.Rounds; round++)
{
    foreach (var c in cases)
    {
        // The order of the sides rotates by round, so a load change that drifts through a round favours none.
        var order = sides.Of(c);
        var shift = (round - 1) % order.Count;
        foreach (var side in order.Skip(shift).Concat(order.Take(shift)))
        {
            side.Record(side.Measure());
        }

        Console.WriteLine($"round {round} {c.Name}: " + string.Join("; ", order.Select(s => $"{s.Label} {s.Last.Cpu / 1000:F2}")) + " (thread CPU us per run)");
    }
}

Console.WriteLine();
Console.WriteLine("Thread CPU time per run: median of round means; paired overhead = median over rounds of (side - C) for the tiny model, (side / C - 1) otherwise; wall best batch alongside.");
foreach (var c in cases)
{
    Console.WriteLine(sides.Summary(c));
}

if (settings.Only is null)
{
    Console.WriteLine();
    Allocations.Report(settings, sides);
}

static bool SameFile(string a, string b) =>
    string.Equals(new FileInfo(a).ResolveLinkTarget(true)?.FullName ?? Path.GetFullPath(a), new FileInfo(b).ResolveLinkTarget(true)?.FullName ?? Path.GetFullPath(b), StringComparison.Ordinal);

namespace Edge.Inference.Benchmarks
{
    internal sealed record HarnessSettings(string ReferenceBinary, string Library, string Models, int Rounds, int TinyIterations, int SmallIterations, int LargeIterations, int Threads, string? Only)
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
                Value("--library", OnnxRuntimeLibrary.LibraryPath),
                Value("--models", "artifacts/models"),
                Number("--rounds", 9),
                Number("--tiny-iterations", 200_000),
                Number("--small-iterations", 2_000),
                Number("--large-iterations", 20),
                Number("--threads", 1),
                Array.IndexOf(args, "--only") >= 0 ? Value("--only", string.Empty) : null);
        }
    }

    internal sealed record Case(string Name, string File, int Iterations, bool Image);

    /// <summary>
    /// Nanoseconds per run over the ten timed batches: wall-clock mean and fastest batch; the calling
    /// thread's CPU time, mean and least batch; and the whole process's CPU time over the same span.
    /// </summary>
    internal readonly record struct Timing(double Mean, double Best, double Cpu, double BestCpu, double ProcessCpu)
    {
        public static Timing operator -(Timing a, Timing b) =>
            new(a.Mean - b.Mean, a.Best - b.Best, a.Cpu - b.Cpu, a.BestCpu - b.BestCpu, a.ProcessCpu - b.ProcessCpu);
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

    /// <summary>One thing to run repeatedly; a struct so the timing loop calls it without a virtual call.</summary>
    internal interface IRunOnce
    {
        void Run();
    }

    internal static class Timer
    {
        /// <summary>The same shape as ort_bench: a warm-up of a tenth, then ten timed batches.</summary>
        public static Timing Measure<T>(T runner, int iterations)
            where T : struct, IRunOnce
        {
            var warmup = (iterations / 10) + 1;
            for (var k = 0; k < warmup; k++)
            {
                runner.Run();
            }

            var batch = Math.Max(iterations / 10, 1);
            var best = double.MaxValue;
            var bestCpu = double.MaxValue;

            // The process window encloses the thread window, as in ort_bench.
            var processStart = CpuClock.ProcessNs();
            var total = Stopwatch.StartNew();
            var cpuStart = CpuClock.ThreadNs();
            for (var b = 0; b < 10; b++)
            {
                var clock = Stopwatch.StartNew();
                var batchCpuStart = CpuClock.ThreadNs();
                for (var k = 0; k < batch; k++)
                {
                    runner.Run();
                }

                bestCpu = Math.Min(bestCpu, (CpuClock.ThreadNs() - batchCpuStart) / batch);
                best = Math.Min(best, clock.Elapsed.TotalNanoseconds / batch);
            }

            var cpu = CpuClock.ThreadNs() - cpuStart;
            var wall = total.Elapsed.TotalNanoseconds;
            var process = CpuClock.ProcessNs() - processStart;
            var runs = batch * 10.0;
            return new Timing(wall / runs, best, cpu / runs, bestCpu, process / runs);
        }
    }

    /// <summary>(a) OnnxModel.Run(OrtIoBinding) on OrtValues bound once; also the frame runner's own binding.</summary>
    internal readonly struct BindingRun(OnnxModel model, OrtIoBinding binding, CancellationToken token = default) : IRunOnce
    {
        public void Run() => model.Run(binding, token);
    }

    /// <summary>The official binding run that (a) wraps, called directly: splits (a)'s overhead into ORT's managed layer and ours.</summary>
    internal readonly struct SessionBindingRun(InferenceSession session, RunOptions options, OrtIoBinding binding) : IRunOnce
    {
        public void Run() => session.RunWithBinding(options, binding);
    }

    /// <summary>(c) ONNX Runtime's own InferenceSession.Run with output values passed in.</summary>
    internal readonly struct SessionRun(InferenceSession session, RunOptions options, string[] inputNames, OrtValue[] inputs, string[] outputNames, OrtValue[] outputs) : IRunOnce
    {
        public void Run() => session.Run(options, inputNames, inputs, outputNames, outputs);
    }

    /// <summary>(b) OnnxModel.Run(Frame): preprocessing into the bound input, then the bound run.</summary>
    internal readonly struct FrameRun(OnnxModel model, Frame frame) : IRunOnce
    {
        public void Run() => model.Run(frame);
    }

    internal delegate void WriteImage(Frame frame, Span<float> destination, int width, int height, bool channelsFirst, int channels);

    /// <summary>(b) the preprocessing part of Run(Frame) alone: the model's own writer into a same-sized tensor.</summary>
    internal readonly struct PreprocessRun(WriteImage write, Frame frame, float[] destination, int width, int height) : IRunOnce
    {
        public void Run() => write(frame, destination, width, height, true, 3);
    }

    /// <summary>One measured side of a case and its per-round timings.</summary>
    internal sealed class Side(string label, bool managed, Func<Timing> measure)
    {
        private readonly List<Timing> _rounds = [];

        public string Label => label;

        public bool IsManaged => managed;

        public IReadOnlyList<Timing> Rounds => _rounds;

        public Timing Last => _rounds[^1];

        public Timing Measure() => measure();

        public void Record(Timing timing) => _rounds.Add(timing);
    }

    /// <summary>Every side of every case: the two C modes, and the .NET paths on one loaded model per case.</summary>
    internal sealed class Sides : IDisposable
    {
        public const string CRun = "C Run";
        public const string CBinding = "C RunWithBinding";
        public const string ModelBinding = "(a) OnnxModel.Run(OrtIoBinding)";
        public const string ModelBindingToken = "(a) same, cancellable token";
        public const string Frame = "(b) OnnxModel.Run(Frame)";
        public const string Preprocess = "(b) preprocessing alone";
        public const string FrameBinding = "(b) Run(Frame)'s own binding";
        public const string Session = "(c) InferenceSession.Run";
        public const string SessionBinding = "InferenceSession.RunWithBinding";

        private readonly Dictionary<Case, List<Side>> _sides = [];
        private readonly List<IDisposable> _owned = [];
        private readonly CancellationTokenSource _cancellation = new();

        public Sides(HarnessSettings settings, IEnumerable<Case> cases)
        {
            foreach (var c in cases)
            {
                var path = Path.Combine(settings.Models, c.File);
                var model = Own(Open(path, settings.Threads));
                var inputs = model.Inputs.Select(i => Own(Filled(i.Shape))).ToArray();
                var outputs = model.Outputs.Select(o => Own(OrtValue.CreateTensorValueFromMemory(new float[Length(o.Shape)], [.. o.Shape]))).ToArray();
                var binding = Own(model.Session.CreateIoBinding());
                for (var i = 0; i < inputs.Length; i++)
                {
                    binding.BindInput(model.Inputs[i].Name, inputs[i]);
                }

                for (var i = 0; i < outputs.Length; i++)
                {
                    binding.BindOutput(model.Outputs[i].Name, outputs[i]);
                }

                var runOptions = Own(new RunOptions());
                var inputNames = model.Inputs.Select(i => i.Name).ToArray();
                var outputNames = model.Outputs.Select(o => o.Name).ToArray();
                List<Side> sides =
                [
                    new(CRun, false, () => Reference.Run(settings, path, c.Iterations, "run")),
                    new(CBinding, false, () => Reference.Run(settings, path, c.Iterations, "binding")),
                    new(ModelBinding, true, () => Timer.Measure(new BindingRun(model, binding), c.Iterations)),
                    new(ModelBindingToken, true, () => Timer.Measure(new BindingRun(model, binding, _cancellation.Token), c.Iterations)),
                    new(Session, true, () => Timer.Measure(new SessionRun(model.Session, runOptions, inputNames, inputs, outputNames, outputs), c.Iterations)),
                    new(SessionBinding, true, () => Timer.Measure(new SessionBindingRun(model.Session, runOptions, binding), c.Iterations)),
                ];
                if (c.Image)
                {
                    var (width, height) = ((int)model.Inputs[0].Shape[3], (int)model.Inputs[0].Shape[2]);

                    // A frame of the model's own size, so that preprocessing is as cheap as it gets and
                    // subtracting it leaves the least noise.
                    var frame = Own(Edge.Plugin.Frame.Rent(width, height, PixelFormat.Rgb24, Clock.NowNs(), "benchmark"));
                    new Random(5).NextBytes(frame.Pixels);
                    model.Run(frame);
                    var (frameBinding, write) = FrameInternals(model);
                    var scratch = new float[3 * width * height];
                    sides.Add(new(Frame, true, () => Timer.Measure(new FrameRun(model, frame), c.Iterations)));
                    sides.Add(new(Preprocess, true, () => Timer.Measure(new PreprocessRun(write, frame, scratch, width, height), c.Iterations)));
                    sides.Add(new(FrameBinding, true, () => Timer.Measure(new BindingRun(model, frameBinding), c.Iterations)));
                }

                _sides[c] = sides;
            }
        }

        public IEnumerable<Side> All => _sides.Values.SelectMany(s => s);

        public IReadOnlyList<Side> Of(Case c) => _sides[c];

        public OnnxModel ModelOf(string file) => _owned.OfType<OnnxModel>().First(m => Path.GetFileName(m.Source) == file);

        public static OnnxModel Open(string path, int threads) =>
            OnnxModel.Load(path, new OnnxModelOptions { IntraOpThreads = threads, InterOpThreads = 1, ExecutionProvider = { Name = "CPU" } });

        /// <summary>
        /// The binding and the writer inside OnnxModel.Run(Frame), reached by reflection: timing them
        /// apart splits that call into its preprocessing and its run without changing the library.
        /// </summary>
        public static (OrtIoBinding Binding, WriteImage Write) FrameInternals(OnnxModel model)
        {
            const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
            var runner = typeof(OnnxModel).GetField("_frameRunner", Private)!.GetValue(model)!;
            var binding = (OrtIoBinding)runner.GetType().GetProperty("Binding")!.GetValue(runner)!;
            var writer = runner.GetType().GetField("_writer", Private)!.GetValue(runner)!;
            var write = writer.GetType().GetMethod("Write", [typeof(Frame), typeof(Span<float>), typeof(int), typeof(int), typeof(bool), typeof(int)])!;
            return (binding, write.CreateDelegate<WriteImage>(writer));
        }

        public static OrtValue Filled(IReadOnlyList<long> shape)
        {
            var data = new float[Length(shape)];
            for (var k = 0; k < data.Length; k++)
            {
                data[k] = k % 255 / 255f;
            }

            return OrtValue.CreateTensorValueFromMemory(data, [.. shape]);
        }

        public static int Length(IReadOnlyList<long> shape) => checked((int)shape.Aggregate(1L, (a, b) => a * b));

        public string Summary(Case c)
        {
            var perCall = !c.Image && c.Iterations > 1000;
            var sides = _sides[c].ToDictionary(s => s.Label);
            var text = new System.Text.StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"{c.Name} ({c.File}, {c.Iterations} runs per side per round):");
            foreach (var side in _sides[c])
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {side.Label,-34} thread CPU {Median(side.Rounds.Select(t => t.Cpu)) / 1000,10:F3} us (least batch {side.Rounds.Min(t => t.BestCpu) / 1000:F3}), wall best batch {side.Rounds.Min(t => t.Best) / 1000:F3} us; process/thread CPU max {side.Rounds.Max(t => t.ProcessCpu / t.Cpu):F3}");
            }

            void Compare(string label, IReadOnlyList<Timing> managed, string reference)
            {
                var native = sides[reference].Rounds;
                var paired = managed.Zip(native, (m, n) => perCall ? m.Cpu - n.Cpu : (m.Cpu / n.Cpu) - 1).ToArray();
                string Show(double v) => perCall ? $"{v / 1000:+0.000;-0.000;0.000} us" : $"{v * 100:+0.00;-0.00;0.00}%";
                var ratio = Median(managed.Select(t => t.Cpu)) / Median(native.Select(t => t.Cpu));
                var overMedians = perCall
                    ? Show(Median(managed.Select(t => t.Cpu)) - Median(native.Select(t => t.Cpu)))
                    : Show(ratio - 1);
                var bestWall = perCall
                    ? Show(managed.Min(t => t.Best) - native.Min(t => t.Best))
                    : Show((managed.Min(t => t.Best) / native.Min(t => t.Best)) - 1);
                var leastBatch = perCall
                    ? Show(managed.Min(t => t.BestCpu) - native.Min(t => t.BestCpu))
                    : Show((managed.Min(t => t.BestCpu) / native.Min(t => t.BestCpu)) - 1);
                var sorted = paired.Order().ToArray();
                text.AppendLine(CultureInfo.InvariantCulture, $"  {label} vs {reference}: ratio of medians {ratio:F4} ({overMedians}); paired median {Show(Median(paired))} (range {Show(sorted[0])} .. {Show(sorted[^1])}); least batch {leastBatch}; wall best batch {bestWall}");
            }

            Compare(ModelBinding, sides[ModelBinding].Rounds, CBinding);
            Compare(ModelBindingToken, sides[ModelBindingToken].Rounds, CBinding);
            Compare(SessionBinding, sides[SessionBinding].Rounds, CBinding);
            Compare(ModelBinding, sides[ModelBinding].Rounds, SessionBinding);
            Compare(Session, sides[Session].Rounds, CRun);
            Compare(CBinding, sides[CBinding].Rounds, CRun);
            if (c.Image)
            {
                Compare(FrameBinding, sides[FrameBinding].Rounds, CBinding);
                // A difference of two timings is only as good as the smaller is large next to their noise.
                var preprocessing = Median(sides[Preprocess].Rounds.Select(t => t.Cpu));
                if (preprocessing < Median(sides[CBinding].Rounds.Select(t => t.Cpu)))
                {
                    var withoutPreprocessing = sides[Frame].Rounds.Zip(sides[Preprocess].Rounds, (f, p) => f - p).ToArray();
                    Compare("(b) Run(Frame) - preprocessing", withoutPreprocessing, CBinding);
                }
                else
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"  (b) Run(Frame) - preprocessing: not resolvable here, preprocessing ({preprocessing / 1000:F1} us) outweighs the run; the frame runner's own binding above is the figure");
                }
            }

            return text.ToString().TrimEnd();
        }

        private T Own<T>(T value)
            where T : IDisposable
        {
            _owned.Add(value);
            return value;
        }

        public void Dispose()
        {
            for (var i = _owned.Count - 1; i >= 0; i--)
            {
                _owned[i].Dispose();
            }

            _cancellation.Dispose();
        }

        internal static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    internal static class Reference
    {
        public static Timing Run(HarnessSettings settings, string model, int iterations, string mode)
        {
            var start = new ProcessStartInfo(settings.ReferenceBinary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                ArgumentList = { settings.Library, model, iterations.ToString(CultureInfo.InvariantCulture), settings.Threads.ToString(CultureInfo.InvariantCulture), mode },
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

    /// <summary>Managed bytes per steady-state run, on this thread, after a warm-up.</summary>
    internal static class Allocations
    {
        public static void Report(HarnessSettings settings, Sides sides)
        {
            using var cancellation = new CancellationTokenSource();
            foreach (var (file, runs) in new[] { ("colour-classifier.onnx", 1000), ("mobilenet-v2-random.onnx", 20) })
            {
                using var model = Sides.Open(Path.Combine(settings.Models, file), settings.Threads);
                using var frame = Frame.Rent(640, 480, PixelFormat.Rgb24, Clock.NowNs(), "benchmark");
                new Random(5).NextBytes(frame.Pixels);
                var top = new Prediction[5];
                void OneFrame(CancellationToken token)
                {
                    var result = model.Run(frame, token);
                    var scores = result[0];
                    Scores.Softmax(scores);
                    Scores.Top(scores, model.Labels, top);
                }

                foreach (var (label, token) in new[] { ("no token", CancellationToken.None), ("a cancellable token", cancellation.Token) })
                {
                    Console.WriteLine($"allocated per steady-state frame ({file}; 640x480 RGB -> resize/normalise -> Run -> softmax -> top-5 into a preallocated span; {label}): {PerRun(() => OneFrame(token), runs)} bytes (target 0)");
                }
            }

            foreach (var c in new[] { "add.onnx", "mobilenet-v2-random.onnx" })
            {
                var model = sides.ModelOf(c);
                var inputs = model.Inputs.Select(i => Sides.Filled(i.Shape)).ToArray();
                var outputs = model.Outputs.Select(o => OrtValue.CreateTensorValueFromMemory(new float[Sides.Length(o.Shape)], [.. o.Shape])).ToArray();
                using var binding = model.Session.CreateIoBinding();
                for (var i = 0; i < inputs.Length; i++)
                {
                    binding.BindInput(model.Inputs[i].Name, inputs[i]);
                }

                for (var i = 0; i < outputs.Length; i++)
                {
                    binding.BindOutput(model.Outputs[i].Name, outputs[i]);
                }

                using var runOptions = new RunOptions();
                var inputNames = model.Inputs.Select(i => i.Name).ToArray();
                var outputNames = model.Outputs.Select(o => o.Name).ToArray();
                var runs = c == "add.onnx" ? 10_000 : 20;
                var token = cancellation.Token;
                Console.WriteLine($"allocated per (a) OnnxModel.Run(OrtIoBinding) ({c}): no token {PerRun(() => model.Run(binding), runs)} bytes, a cancellable token {PerRun(() => model.Run(binding, token), runs)} bytes (target 0)");
                Console.WriteLine($"allocated per (c) InferenceSession.Run(RunOptions, names, values, names, values) ({c}): {PerRun(() => model.Session.Run(runOptions, inputNames, inputs, outputNames, outputs), runs)} bytes");
                foreach (var value in inputs.Concat(outputs))
                {
                    value.Dispose();
                }
            }
        }

        /// <summary>Bytes per run, with the total over all runs, so that a rare allocation does not round away to 0.</summary>
        private static string PerRun(Action run, int runs)
        {
            for (var i = 0; i < Math.Max(runs / 10, 3); i++)
            {
                run();
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < runs; i++)
            {
                run();
            }

            var total = GC.GetAllocatedBytesForCurrentThread() - before;
            return $"{total / (double)runs:0.##} ({total} over {runs} runs)";
        }
    }
}
