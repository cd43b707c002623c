using System.Diagnostics;

namespace Edge.Testing;

/// <summary>
/// Waits for something that happens in another thread or process by checking it until a deadline.
/// A condition that holds ends the wait at once, so deadlines can be generous: the machines that run
/// the suite are loaded, and a tight deadline fails a test whose code is right.
/// </summary>
internal static class Poll
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Returns once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> at <paramref name="deadline"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, string what, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, () => what, interval);

    /// <inheritdoc cref="UntilAsync(Func{bool}, TimeSpan, string, TimeSpan?)"/>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what, TimeSpan? interval = null) =>
        UntilAsync(condition, deadline, () => what, interval);

    /// <summary>
    /// As <see cref="UntilAsync(Func{bool}, TimeSpan, string, TimeSpan?)"/>, with <paramref name="what"/> made
    /// only when the deadline passes, so that it can tell the state things were in then (a log, what came).
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, Func<string> what, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, what, interval);

    /// <inheritdoc cref="UntilAsync(Func{bool}, TimeSpan, Func{string}, TimeSpan?)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> what, TimeSpan? interval = null)
    {
        if (!await TryUntilAsync(condition, deadline, interval))
        {
            throw new TimeoutException($"Waited {deadline.TotalSeconds:0.###} s until {what()}");
        }
    }

    /// <summary>
    /// Whether <paramref name="condition"/> came to hold before <paramref name="deadline"/>: for a caller
    /// whose own assertion on what it got says more than a timeout would.
    /// </summary>
    public static Task<bool> TryUntilAsync(Func<bool> condition, TimeSpan deadline, TimeSpan? interval = null) =>
        TryUntilAsync(() => Task.FromResult(condition()), deadline, interval);

    /// <inheritdoc cref="TryUntilAsync(Func{bool}, TimeSpan, TimeSpan?)"/>
    public static async Task<bool> TryUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed >= deadline)
            {
                return false;
            }

            await Task.Delay(interval ?? DefaultInterval);
        }

        return true;
    }
}
