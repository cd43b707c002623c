using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Edge.Testing;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Edge.Inference.Tests.Conformance;

/// <summary>
/// Runs the ONNX backend node tests (Debian libonnx-testdata) through <see cref="OnnxModel"/> on
/// ONNX Runtime's official C# API (Microsoft.ML.OnnxRuntime.Managed): load model.onnx, feed
/// input_N.pb as <see cref="OrtValue"/>s, compare the OrtValues that come back with output_N.pb using
/// the backend runner's tolerances (rtol 1e-3, atol 1e-7 for floating point, exact otherwise). Every
/// case ORT can load and run must pass; each skip is reported with its reason.
/// </summary>
public sealed partial class NodeConformanceTests(ITestOutputHelper output)
{
    public const string SuiteFolder = "/usr/share/libonnx-testdata/data/node";
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    /// <summary>What passed on ONNX Runtime 1.30.0 with libonnx-testdata 1.12 (see docs/inference.md); fewer is a regression.</summary>
    private const int MinimumPassed = 887;

    private const string Unrepresentable = "an element type Microsoft.ML.OnnxRuntime.Managed 1.30 has no tensor type for (float8, int4, uint4, float4, complex)";

    /// <summary>
    /// Cases where ONNX Runtime 1.30 itself gives another answer than the suite: each was run through
    /// ORT's C API alone (benchmarks/Edge.Inference.Benchmarks/native/ort_case.c, see docs/inference.md) and gave the very
    /// numbers the C# API gives here. They must still load and run here; only the comparison is waived.
    /// </summary>
    internal static readonly Dictionary<string, string> RuntimeDifferences = new(StringComparer.Ordinal)
    {
        ["test_bernoulli"] = Random,
        ["test_bernoulli_double"] = Random,
        ["test_bernoulli_double_expanded"] = Random,
        ["test_bernoulli_expanded"] = Random,
        ["test_bernoulli_seed"] = Random,
        ["test_bernoulli_seed_expanded"] = Random,
        ["test_training_dropout"] = Random,
        ["test_training_dropout_default"] = Random,
        ["test_training_dropout_default_mask"] = Random,
        ["test_training_dropout_mask"] = Random,
        ["test_cast_FLOAT_to_STRING"] = FloatText,
        ["test_castlike_FLOAT_to_STRING"] = FloatText,
        ["test_castlike_FLOAT_to_STRING_expanded"] = FloatText,
        ["test_dft"] = Fft,
        ["test_dft_axis"] = Fft,
        ["test_dft_inverse"] = Fft,
        ["test_stft"] = Fft,
        ["test_stft_with_window"] = Fft,
        ["test_maxunpool_export_with_output_shape"] = "ORT's MaxUnpool places values where the reference output has zeros (ORT lists the case as failing in its own backend test series)",
        ["test_resize_downsample_scales_cubic_align_corners"] = AlignCorners,
        ["test_resize_downsample_scales_linear_align_corners"] = AlignCorners,
        ["test_cast_FLOAT_to_BFLOAT16"] = "ORT rounds float to bfloat16 to nearest even; the ONNX 1.12 reference truncates (16118 against 16117 in bits)",
    };

    /// <summary>
    /// Cases whose test data the runtime refuses too: ORT's C API alone fails them the same way. Where
    /// <see cref="OnnxModel.Run(IReadOnlyDictionary{string, OrtValue}, CancellationToken)"/> refuses a
    /// tensor before ORT sees it, the test hands the same inputs to <see cref="OnnxModel.Session"/> and
    /// counts the refusal only if ORT refuses them as well.
    /// </summary>
    internal static readonly Dictionary<string, (string Group, string Reason)> RuntimeRejects = new(StringComparer.Ordinal)
    {
        ["test_castlike_BFLOAT16_to_FLOAT"] = (MisfitData, LikeShape),
        ["test_castlike_BFLOAT16_to_FLOAT_expanded"] = (MisfitData, LikeShape),
        ["test_castlike_FLOAT_to_BFLOAT16"] = (MisfitData, LikeShape),
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = (MisfitData, LikeShape),
        ["test_loop13_seq"] = ("an input ONNX Runtime's C API cannot make (reproduced through its C API)",
            "input 'seq_empty' is an empty sequence; OrtValue.CreateSequence calls CreateValue, the C API's only way to make a sequence, which answers \"Number of values should be at least 1.\""),
    };

    private const string MisfitData = "the test data does not fit its own model, and ONNX Runtime refuses it too (reproduced through its C API)";

    private const string LikeShape = "input 'like' is given with shape [1] where the model declares [3,4]; ORT's C API answers \"Invalid rank for input: like Got: 1 Expected: 2\"";

    private const string Random = "random output: the expected values came from numpy's generator, ORT draws from its own";
    private const string FloatText = "ORT prints floats with 8 significant digits (0.60484552), numpy with the shortest round-trip form (0.6048455)";
    private const string Fft = "an exact zero comes out as rounding noise up to 1.1e-4 from sums of size ~100; no relative tolerance can hold at 0 (ORT's own runner raises atol to 1e-4 for test_dft)";
    private const string AlignCorners = "ORT divides by (output size - 1) for a fractional downscale where the reference divides by (scale * input size - 1)";

    [Fact]
    public void OnnxBackendNodeTests_PassWhereverTheRuntimeRunsThem()
    {
        Assert.True(Directory.Exists(SuiteFolder), $"{SuiteFolder} is missing: build/setup.sh --test installs libonnx-testdata.");
        var cases = Directory.GetDirectories(SuiteFolder).Order(StringComparer.Ordinal).ToArray();
        var passed = new List<string>();
        var skipped = new List<(string Case, string Group, string Detail)>();
        var failed = new List<string>();
        foreach (var folder in cases)
        {
            var name = Path.GetFileName(folder);
            var outcome = RunCase(folder);
            switch (outcome.Kind)
            {
                case OutcomeKind.Passed: passed.Add(name); break;
                case OutcomeKind.Skipped: skipped.Add((name, outcome.Group!, outcome.Detail)); break;
                default: failed.Add($"{name}: {outcome.Detail}"); break;
            }
        }

        var report = Report(cases.Length, passed.Count, skipped, failed);
        output.WriteLine(report);
        var reportPath = Path.Combine(RepoPaths.Root, "artifacts", "conformance", "node-report.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(reportPath)!);
        File.WriteAllText(reportPath, report);

        Assert.True(passed.Count > cases.Length / 2, $"only {passed.Count} of {cases.Length} passed; see {reportPath}");
        Assert.True(passed.Count >= MinimumPassed, $"{passed.Count} of {cases.Length} passed, fewer than the {MinimumPassed} passed before; see {reportPath}");
        Assert.True(failed.Count == 0, $"{failed.Count} case(s) failed:{Environment.NewLine}{string.Join(Environment.NewLine, failed)}");
    }

    internal static string Report(int total, int passed, List<(string Case, string Group, string Detail)> skipped, List<string> failed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"ONNX backend node tests ({SuiteFolder}) on ONNX Runtime {OnnxRuntimeLibrary.Version} (Microsoft.ML.OnnxRuntime.Managed {OnnxRuntimeLibrary.ManagedVersion}): {passed} passed, {skipped.Count} skipped, {failed.Count} failed, of {total}.");
        foreach (var group in skipped.GroupBy(s => s.Group).OrderByDescending(g => g.Count()))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"skipped {group.Count()}: {group.Key}");
            foreach (var (name, _, detail) in group)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {name}: {detail}");
            }
        }

        foreach (var failure in failed)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"FAILED {failure}");
        }

        return text.ToString();
    }

    private static Outcome RunCase(string folder)
    {
        var name = Path.GetFileName(folder);
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(Path.Combine(folder, "model.onnx"), new OnnxModelOptions { ExecutionProvider = { Name = "CPU" }, IntraOpThreads = 1 });
        }
        catch (InferenceException e)
        {
            return Outcome.Skip("ONNX Runtime rejects the model: " + Normalise(e.Message), e.Message);
        }

        using (model)
        {
            var described = model.Inputs.Concat(model.Outputs).ToList();
            if (described.FirstOrDefault(i => i.Kind is not (OnnxValueType.ONNX_TYPE_TENSOR or OnnxValueType.ONNX_TYPE_SEQUENCE or OnnxValueType.ONNX_TYPE_MAP or OnnxValueType.ONNX_TYPE_OPTIONAL)) is { } unknown)
            {
                return Outcome.Fail($"'{unknown.Name}' has a type this test does not handle: {unknown.TypeText}");
            }

            if (described.FirstOrDefault(i => !ProtoTensors.IsRepresentable(i.ElementType)) is { } unrepresentable)
            {
                return Outcome.Skip(Unrepresentable, $"'{unrepresentable.Name}' is {unrepresentable.TypeText}");
            }

            RuntimeDifferences.TryGetValue(name, out var difference);
            foreach (var set in Directory.GetDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                Outcome outcome;
                try
                {
                    outcome = RunSet(model, set, compare: difference is null);
                }
                catch (NotSupportedException e)
                {
                    return Outcome.Skip(Unrepresentable, $"{Path.GetFileName(set)}: {e.Message}");
                }

                if (outcome.Kind == OutcomeKind.Failed && RuntimeRejects.TryGetValue(name, out var rejected) && outcome.Refused)
                {
                    return Outcome.Skip(rejected.Group, $"{rejected.Reason}; here: {outcome.Detail}");
                }

                if (outcome.Kind != OutcomeKind.Passed)
                {
                    return outcome with { Detail = $"{Path.GetFileName(set)}: {outcome.Detail}" };
                }
            }

            if (difference is not null)
            {
                return Outcome.Skip("ran, but ONNX Runtime itself disagrees with the reference (reproduced through its C API)", difference);
            }
        }

        return Outcome.Pass;
    }

    private static Outcome RunSet(OnnxModel model, string set, bool compare) =>
        model.Inputs.Concat(model.Outputs).All(i => i.Kind == OnnxValueType.ONNX_TYPE_TENSOR)
            ? RunTensorSet(model, set, compare)
            : RunValueSet(model, set, compare);

    /// <summary>
    /// A model with a sequence, map or optional input or output: each input is made as the model
    /// declares it (an optional holding nothing is left out), each output read as the model declares it.
    /// </summary>
    private static Outcome RunValueSet(OnnxModel model, string set, bool compare)
    {
        var inputs = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            var files = Numbered(set, "input_");
            for (var k = 0; k < files.Length; k++)
            {
                var input = model.Inputs[k];
                var proto = TensorProtoReader.ReadValue(File.ReadAllBytes(files[k]), input.Kind);
                OrtValue? value;
                try
                {
                    value = ProtoValues.ToValue(proto, input.ElementType);
                }
                catch (OnnxRuntimeException e)
                {
                    return Outcome.Refuse($"input '{input.Name}' could not be made: {e.Message}");
                }

                if (value is not null)
                {
                    inputs[input.Name] = value;
                }
            }

            using var outputs = Run(model, inputs);
            if (!compare)
            {
                return Outcome.Pass;
            }

            var expectedFiles = Numbered(set, "output_");
            for (var k = 0; k < expectedFiles.Length; k++)
            {
                var expected = TensorProtoReader.ReadValue(File.ReadAllBytes(expectedFiles[k]), model.Outputs[k].Kind);
                if (ProtoValues.Compare(model.Outputs[k].Name, expected, outputs[k]) is { } mismatch)
                {
                    return Outcome.Fail(mismatch);
                }
            }

            return Outcome.Pass;
        }
        catch (InferenceException e)
        {
            return Outcome.Refuse("run failed: " + e.Message);
        }
        finally
        {
            foreach (var value in inputs.Values)
            {
                value.Dispose();
            }
        }
    }

    private static Outcome RunTensorSet(OnnxModel model, string set, bool compare)
    {
        var inputs = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            var files = Numbered(set, "input_");
            for (var k = 0; k < files.Length; k++)
            {
                var proto = TensorProtoReader.Read(File.ReadAllBytes(files[k]));
                var input = model.Inputs.FirstOrDefault(i => i.Name == proto.Name) ?? model.Inputs[k];
                inputs[input.Name] = ProtoTensors.ToOrtValue(proto, input.ElementType);
            }

            using var outputs = Run(model, inputs);
            if (!compare)
            {
                return Outcome.Pass;
            }

            var expectedFiles = Numbered(set, "output_");
            for (var k = 0; k < expectedFiles.Length; k++)
            {
                var proto = TensorProtoReader.Read(File.ReadAllBytes(expectedFiles[k]));
                var index = model.Outputs.ToList().FindIndex(o => o.Name == proto.Name);
                index = index >= 0 ? index : k;
                if (Compare(model.Outputs[index].Name, proto, outputs[index]) is { } mismatch)
                {
                    return Outcome.Fail(mismatch);
                }
            }

            return Outcome.Pass;
        }
        catch (InferenceException e)
        {
            return Outcome.Refuse("run failed: " + e.Message);
        }
        finally
        {
            foreach (var value in inputs.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// Runs through <see cref="OnnxModel.Run(IReadOnlyDictionary{string, OrtValue}, CancellationToken)"/>.
    /// That checks every tensor against the declared type and shape before ORT sees it; where it
    /// refuses one, the same inputs go to ORT itself through <see cref="OnnxModel.Session"/> (the one
    /// thing the wrapper cannot express), so a refusal only counts when ORT refuses them too.
    /// </summary>
    private static IDisposableReadOnlyCollection<OrtValue> Run(OnnxModel model, Dictionary<string, OrtValue> inputs)
    {
        try
        {
            return model.Run(inputs);
        }
        catch (InferenceException e) when (e.InnerException is null)
        {
            try
            {
                using var runOptions = new RunOptions();
                model.Session.Run(runOptions, inputs, model.Session.OutputNames).Dispose();
            }
            catch (OnnxRuntimeException ort)
            {
                throw new InferenceException($"{e.Message} ONNX Runtime itself, given the same inputs through OnnxModel.Session: {ort.Message}", ort);
            }

            throw new InvalidOperationException($"OnnxModel refuses inputs ONNX Runtime runs: {e.Message}", e);
        }
    }

    /// <summary>Null when the tensor <paramref name="actual"/> holds what the file <paramref name="expectedProto"/> does, otherwise what differs.</summary>
    internal static string? Compare(string name, TensorProtoData expectedProto, OrtValue actual)
    {
        if (!actual.IsTensor)
        {
            return $"output '{name}' is {ProtoValues.Describe(actual)}, expected a tensor";
        }

        var (type, shape) = ProtoTensors.Describe(actual);
        var expectedType = ProtoTensors.TypeOf(expectedProto, type);
        if (expectedType != type)
        {
            return $"output '{name}' is {type}{TensorInfo.FormatShape(shape)}, expected {expectedType}{TensorInfo.FormatShape(expectedProto.Dims)}";
        }

        if (!expectedProto.Dims.SequenceEqual(shape))
        {
            return $"output '{name}' has shape {TensorInfo.FormatShape(shape)}, expected {TensorInfo.FormatShape(expectedProto.Dims)}";
        }

        using var expected = ProtoTensors.ToOrtValue(expectedProto, type);
        var (expectedNumbers, expectedStrings) = ProtoTensors.Values(expected);
        var (actualNumbers, actualStrings) = ProtoTensors.Values(actual);
        if (expectedStrings is not null)
        {
            var at = Enumerable.Range(0, expectedStrings.Length).FirstOrDefault(i => expectedStrings[i] != actualStrings![i], -1);
            return at < 0 ? null : $"output '{name}'[{at}] is \"{actualStrings![at]}\", expected \"{expectedStrings[at]}\"";
        }

        var tolerant = ProtoTensors.IsFloatingPoint(type);
        for (var i = 0; i < expectedNumbers!.Length; i++)
        {
            var e = expectedNumbers[i];
            var a = actualNumbers![i];
            var close = tolerant
                ? (double.IsNaN(e) && double.IsNaN(a)) || e.Equals(a) || Math.Abs(a - e) <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(e))
                : BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a);
            if (!close)
            {
                return $"output '{name}'[{i}] is {a.ToString("R", CultureInfo.InvariantCulture)}, expected {e.ToString("R", CultureInfo.InvariantCulture)} (rtol {RelativeTolerance}, atol {AbsoluteTolerance})";
            }
        }

        return null;
    }

    private static string[] Numbered(string folder, string prefix) =>
        [.. Directory.GetFiles(folder, prefix + "*.pb").OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[prefix.Length..], CultureInfo.InvariantCulture))];

    /// <summary>Groups reasons that differ only in node names, numbers or quoted text.</summary>
    private static string Normalise(string message)
    {
        var text = message[(message.IndexOf("could not be loaded: ", StringComparison.Ordinal) is var at and >= 0 ? at + 21 : 0)..];
        text = text[(text.IndexOf(" failed:", StringComparison.Ordinal) is var failed and >= 0 ? failed + 8 : 0)..];
        text = text[(text.LastIndexOf(".h:", StringComparison.Ordinal) is var header and >= 0 ? header + 3 : 0)..];
        text = Quoted().Replace(text, "'…'");
        return Numbers().Replace(text, "N").Trim();
    }

    [GeneratedRegex("'[^']*'")]
    private static partial Regex Quoted();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Numbers();

    private enum OutcomeKind
    {
        Passed,
        Skipped,
        Failed,
    }

    /// <param name="Refused">A failure where the runtime refused the inputs or the run, rather than answering otherwise.</param>
    private sealed record Outcome(OutcomeKind Kind, string? Group, string Detail, bool Refused = false)
    {
        public static Outcome Pass { get; } = new(OutcomeKind.Passed, null, string.Empty);

        public static Outcome Skip(string group, string detail) => new(OutcomeKind.Skipped, group, detail);

        public static Outcome Fail(string detail) => new(OutcomeKind.Failed, null, detail);

        public static Outcome Refuse(string detail) => new(OutcomeKind.Failed, null, detail, Refused: true);
    }
}
