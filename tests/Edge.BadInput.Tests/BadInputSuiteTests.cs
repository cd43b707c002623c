using System.Collections.Concurrent;
using System.Text;
using Edge.Testing;
using Xunit.Abstractions;

namespace Edge.BadInput.Tests;

/// <summary>
/// Several hundred hostile inputs through real plugin programs, each in a child process with a
/// timeout. A crash, a hang or an error that does not name what was wrong scores 0; the suite passes
/// only when every case scores. The table of outcomes goes to TestResults/bad-input.md.
/// </summary>
public sealed class BadInputSuiteTests(ITestOutputHelper output) : IDisposable
{
    // Long enough for a loaded 2-core machine to start .NET and give up on a stalled download (5 s)
    // or start a broker and a worker,
    // short enough that a hang is told from slowness.
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    private readonly Corpus _corpus = new();

    public void Dispose() => _corpus.Dispose();

    [Fact]
    public void EveryHostileInput_EndsInAClearError_WithoutACrashOrAHang()
    {
        using var server = new Server(File.ReadAllBytes(_corpus.GoodJpeg));
        var cases = _corpus.All(server).ToList();
        Assert.True(cases.Count >= 300, $"the suite has {cases.Count} cases; it promises at least 300");

        var scored = new ConcurrentBag<(BadInputCase Case, Verdict Verdict, string Why, string Output)>();
        // Two cases a core: a case mostly waits, on .NET starting or on a download giving up.
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 2 * Environment.ProcessorCount }, @case =>
        {
            try
            {
                var seen = @case.Run(CaseTimeout);
                var (verdict, why) = Judge.Score(@case, seen);
                scored.Add((@case, verdict, why, seen.Output));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                // The case's own set-up failed (a broker that did not start): it proves nothing, so it does not score.
                scored.Add((@case, Verdict.Unclear, $"the case could not be run: {e.Message}", string.Empty));
            }
        });

        var report = Report(scored.OrderBy(s => s.Case.Area, StringComparer.Ordinal).ThenBy(s => s.Case.Name, StringComparer.Ordinal).ToList());
        var path = Path.Combine(AppContext.BaseDirectory, "TestResults", "bad-input.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, report);
        output.WriteLine(report.Split("\n## Failures")[0]);

        var failures = scored.Where(s => s.Verdict != Verdict.Clear).OrderBy(s => s.Case.ToString(), StringComparer.Ordinal).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases did not end in a clear error (full table in {path}):\n" + string.Join(
            "\n\n", failures.Select(f => $"{f.Case} [{f.Verdict}] {f.Why}\n{Tail(f.Output)}")));
    }

    private static string Report(List<(BadInputCase Case, Verdict Verdict, string Why, string Output)> scored)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Bad-input suite: {scored.Count(s => s.Verdict == Verdict.Clear)} of {scored.Count} cases clear");
        text.AppendLine();
        text.AppendLine("| area | cases | clear | crash | hang | unclear |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var area in scored.GroupBy(s => s.Case.Area))
        {
            text.AppendLine($"| {area.Key} | {area.Count()} | {area.Count(s => s.Verdict == Verdict.Clear)} | {area.Count(s => s.Verdict == Verdict.Crash)} | {area.Count(s => s.Verdict == Verdict.Hang)} | {area.Count(s => s.Verdict == Verdict.Unclear)} |");
        }

        text.AppendLine();
        text.AppendLine("## Failures");
        foreach (var (@case, verdict, why, output) in scored.Where(s => s.Verdict != Verdict.Clear))
        {
            text.AppendLine($"- `{@case}` **{verdict}**: {why}");
            text.AppendLine("  ```");
            text.AppendLine("  " + Tail(output).Replace("\n", "\n  ", StringComparison.Ordinal));
            text.AppendLine("  ```");
        }

        text.AppendLine();
        text.AppendLine("## Every case");
        foreach (var (@case, verdict, why, output) in scored)
        {
            var line = output.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.Ordinal)) ?? string.Empty;
            text.AppendLine($"- `{@case}` {verdict} ({why}): {line.Trim()}");
        }

        return text.ToString();
    }

    private static string Tail(string output)
    {
        var lines = output.TrimEnd().Split('\n');
        return string.Join('\n', lines.TakeLast(6).Select(l => l.Length > 400 ? l[..400] + "..." : l));
    }
}
