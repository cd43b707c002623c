using System.Text.RegularExpressions;

namespace Edge.BadInput.Tests;

/// <summary>What a hostile input did to the program that was given it.</summary>
internal sealed record Observation(int? ExitCode, string Output)
{
    /// <summary>The program was still running when its time ran out.</summary>
    public static Observation Hung(string output) => new(null, output);

    /// <summary>A long-running program (a worker) stopped by itself: a crash, whatever code it stopped with.</summary>
    public static Observation Died(int exitCode, string output) => new(-1, $"{output}\n(stopped by itself with exit {exitCode})");
}

/// <summary>How a case is scored: only <see cref="Clear"/> counts; a crash, a hang or an unclear error each count 0.</summary>
internal enum Verdict
{
    Clear,
    Crash,
    Hang,
    Unclear,
}

/// <summary>
/// One hostile input. <paramref name="ExitCodes"/> are the acceptable outcomes (0 among them where a
/// mangled file may still be a valid one); a non-zero exit must name every one of <paramref name="Names"/>
/// (the file, the field, the key) and say what was wrong.
/// </summary>
internal sealed record BadInputCase(string Area, string Name, Func<TimeSpan, Observation> Run, int[] ExitCodes, string[] Names)
{
    public override string ToString() => $"{Area}/{Name}";
}

internal static partial class Judge
{
    /// <summary>The exit codes the SDK documents: anything else (134 abort, 139 segfault, 255 unhandled) is a crash.</summary>
    private static readonly int[] Documented = [0, 1, 2, 3];

    public static (Verdict Verdict, string Why) Score(BadInputCase @case, Observation seen)
    {
        if (seen.ExitCode is not { } exit)
        {
            return (Verdict.Hang, "still running when its time ran out");
        }

        if (!Documented.Contains(exit) || seen.Output.Contains("Unhandled exception", StringComparison.Ordinal) || StackFrame().IsMatch(seen.Output))
        {
            return (Verdict.Crash, $"exit {exit}{(StackFrame().Match(seen.Output) is { Success: true } frame ? $", stack trace ({frame.Value.Trim()})" : string.Empty)}");
        }

        if (!@case.ExitCodes.Contains(exit))
        {
            return (Verdict.Unclear, $"exit {exit}, expected {string.Join(" or ", @case.ExitCodes)}");
        }

        if (exit == 0)
        {
            return (Verdict.Clear, "accepted");
        }

        if (@case.Names.FirstOrDefault(name => !seen.Output.Contains(name, StringComparison.Ordinal)) is { } missing)
        {
            return (Verdict.Unclear, $"exit {exit} without naming '{missing}'");
        }

        return Explains().IsMatch(seen.Output)
            ? (Verdict.Clear, $"exit {exit}")
            : (Verdict.Unclear, $"exit {exit} without saying what was wrong");
    }

    // A .NET stack frame as an unhandled exception or a logged exception prints it.
    [GeneratedRegex(@"^\s+at [\w.`<>+]+(\.[\w`<>|]+)*\(.*\)( in .*)?$", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    // Words with which an error says what was wrong, rather than only that something was.
    [GeneratedRegex(@"\b(not|no|nothing|invalid|corrupt|truncated|unsupported|cannot|could not|too|over|limit|refused|missing|unknown|expected|empty|must|stalled|took longer|denied|outside|exceeds|which is|neither|only|unexpected|nested|requires?|required|allowed|impossible|needs|takes|more than once)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Explains();
}
