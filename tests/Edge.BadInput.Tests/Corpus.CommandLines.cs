namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    /// <summary>
    /// Flags and settings that do not convert or make no sense: exit 2 naming the key (and, for a flag,
    /// the flag), before any frame is read.
    /// </summary>
    private IEnumerable<BadInputCase> CommandLines()
    {
        foreach (var value in new[] { "abc", "10s", "0x10", "1,5" })
        {
            yield return Flags($"-interval '{value}'", ["-interval", value], "Plugin:IntervalSeconds");
        }

        // Numbers, but not intervals: refused by the options' check at start (exit 3), or earlier.
        foreach (var value in new[] { "-1", "NaN", "Infinity", "1e999" })
        {
            yield return Flags($"-interval '{value}'", ["-interval", value], "Plugin:IntervalSeconds", [Usage, StartFailed]);
        }

        // An empty value is no value, as an empty variable is in .NET configuration: the default applies.
        yield return Flags("-interval ''", ["-interval", ""], "Plugin:IntervalSeconds", [0, Usage]);

        yield return Flags("-mode banana", ["-mode", "banana"], "-mode");
        yield return Flags("-mode without a value", ["-mode"], "-mode");
        yield return Flags("-input without a value", ["-input"], "-input", input: false);
        yield return Flags("unknown -bogus", ["-bogus", "1"], "-bogus");
        yield return Flags("unknown --frobnicate", ["--frobnicate"], "--frobnicate");
        yield return Flags("a stray word", ["stray"], "stray");
        yield return Flags("-interval twice, once bad", ["-interval", "1", "-interval", "x"], "-interval");

        // Values that do not convert to the setting's type: exit 2.
        (string Probe, string Key, string Value)[] unconvertible =
        [
            ("plugin", "Plugin:IntervalSeconds", "abc"), ("plugin", "Plugin:MaxTicks", "many"), ("plugin", "Plugin:SignificantDigits", "abc"),
            ("plugin", "Inputs:Width", "abc"), ("plugin", "Inputs:Width", "99999999999"), ("plugin", "Inputs:Height", "wide"),
            ("plugin", "Inputs:KeepAspect", "maybe"), ("plugin", "Inputs:Loop", "2"), ("plugin", "Inputs:Shuffle", "x"), ("plugin", "Inputs:Seed", "abc"),
            ("plugin", "Inputs:Capacity", "abc"), ("plugin", "Inputs:ReconnectDelay", "abc"), ("plugin", "Inputs:MaxReconnectDelay", "soon"),
            ("plugin", "Inputs:StallTimeout", "abc"), ("plugin", "Inputs:SnapshotInterval", "abc"), ("plugin", "Inputs:MaxPixels", "abc"),
            ("plugin", "Health:Port", "abc"), ("plugin", "Health:StaleAfterSeconds", "abc"),
            ("rest", "Publishing:Rest:Spool:MaxBytes", "lots"), ("rest", "Publishing:Rest:Spool:Fsync", "Sometimes"), ("rest", "Publishing:Rest:Spool:WhenFull", "Explode"),
            ("model", "Inference:IntraOpThreads", "abc"), ("model", "Inference:InterOpThreads", "x"), ("model", "Inference:GraphOptimization", "Turbo"),
            ("model", "Inference:OperatorScheduling", "Chaos"), ("model", "Inference:AllowSpinning", "perhaps"), ("model", "Inference:Preprocessing:Gray16", "Bogus"),
        ];
        foreach (var (probe, key, value) in unconvertible)
        {
            yield return Setting(probe, key, value, [Usage]);
        }

        // Values of the right type outside what the setting allows: refused by the options' check at start (exit 3), or earlier.
        (string Probe, string Key, string Value)[] outOfRange =
        [
            ("plugin", "Plugin:IntervalSeconds", "-5"), ("plugin", "Plugin:SignificantDigits", "-1"), ("plugin", "Plugin:SignificantDigits", "99"),
            ("plugin", "Inputs:Width", "-5"), ("plugin", "Inputs:Capacity", "0"), ("plugin", "Inputs:MaxPixels", "0"),
            ("plugin", "Inputs:ReconnectDelay", "10"), ("plugin", "Inputs:ReconnectDelay", "-00:00:01"), ("plugin", "Inputs:SnapshotInterval", "-00:00:01"),
            ("plugin", "Health:Port", "70000"), ("plugin", "Health:Port", "-1"), ("rest", "Publishing:Rest:Spool:MaxBytes", "10"),
            ("model", "Inference:IntraOpThreads", "-3"),
        ];
        foreach (var (probe, key, value) in outOfRange)
        {
            yield return Setting(probe, key, value, [Usage, StartFailed]);
        }
    }

    private BadInputCase Flags(string name, string[] flags, string named, int[]? exitCodes = null, bool input = true) =>
        new("command-line", name, Child.Dotnet(Child.Probe, ["plugin", "-mode", "dev", .. input ? new[] { "-input", GoodJpeg } : [], .. flags]), exitCodes ?? [Usage], [named]);

    /// <summary>The setting in the environment, as a container sets it: the error names the key and the variable.</summary>
    private BadInputCase Setting(string probe, string key, string value, int[] exitCodes)
    {
        var variable = key.Replace(":", "__", StringComparison.Ordinal);
        string[] model = probe == "model" ? ["-model", Models("colour-classifier.onnx")] : [];
        var environment = new Dictionary<string, string?> { [variable] = value };
        if (probe == "rest")
        {
            // The REST publisher, and so its spool's settings, only exist with a URL; nothing listens there.
            environment["Publishing__Rest__Url"] = "http://127.0.0.1:1/measurements";
            environment["Publishing__Rest__Spool__Directory"] = Path.Combine(Folder, "rest-spool", Guid.NewGuid().ToString("N"));
        }

        return new("command-line", $"{variable}='{value}'", Child.Dotnet(Child.Probe, [probe == "model" ? "model" : "plugin", "-mode", "dev", "-input", GoodJpeg, .. model], environment), exitCodes, [key, variable]);
    }

    private static string Models(string name) => Edge.Testing.RepoPaths.Model(name);
}
