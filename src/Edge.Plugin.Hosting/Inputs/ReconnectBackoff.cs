namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Exponential backoff with jitter: each failure doubles the wait up to a ceiling, and each wait is
/// drawn from its upper half so that many plugins whose camera went down together do not all
/// knock on it again in the same instant.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan initial, TimeSpan maximum)
{
    private int _failures;

    public int Failures => _failures;

    /// <summary>The wait before the next attempt, counting this failure.</summary>
    public TimeSpan NextDelay()
    {
        var exponent = Math.Min(_failures++, 30);
        var ceiling = Math.Min(maximum.TotalSeconds, initial.TotalSeconds * Math.Pow(2, exponent));
        var seconds = ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5));
        return TimeSpan.FromSeconds(seconds);
    }

    public void Reset() => _failures = 0;
}
