namespace Edge.Plugin;

/// <summary>Wall-clock time in the unit Waggle uses everywhere: nanoseconds since the Unix epoch.</summary>
public static class Clock
{
    /// <summary>The current UTC time in nanoseconds since the Unix epoch.</summary>
    public static long NowNs() => ToNs(DateTimeOffset.UtcNow);

    /// <summary>Converts a time to nanoseconds since the Unix epoch.</summary>
    public static long ToNs(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    /// <summary>Converts nanoseconds since the Unix epoch to a time (100 ns resolution).</summary>
    public static DateTimeOffset FromNs(long nanoseconds) => DateTimeOffset.UnixEpoch.AddTicks(nanoseconds / 100);
}
