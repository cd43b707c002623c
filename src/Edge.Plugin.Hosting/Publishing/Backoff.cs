namespace Edge.Plugin.Hosting.Publishing;

/// <summary>
/// Exponential backoff with full jitter: attempt n waits a random time in [0, min(max, initial·2ⁿ)],
/// so many plugins that lost the same broker do not all come back in the same instant.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum)
{
    public TimeSpan Initial { get; } = initial;

    public TimeSpan Maximum { get; } = maximum;

    public TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(Maximum.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));

        // Never quite zero, so a tight failure loop still yields the CPU.
        return TimeSpan.FromMilliseconds(Math.Max(1, Random.Shared.NextDouble() * ceiling));
    }
}
