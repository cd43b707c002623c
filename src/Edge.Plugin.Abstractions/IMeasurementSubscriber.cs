namespace Edge.Plugin;

/// <summary>
/// Receives what other plugins publish, as pywaggle's <c>subscribe</c> and <c>get</c> do: on a Waggle
/// node through its RabbitMQ (Edge.Plugin.Waggle), in a test through Edge.Plugin.Testing.
/// </summary>
public interface IMeasurementSubscriber
{
    /// <summary>Where measurements come from, for logs.</summary>
    string Name { get; }

    /// <summary>
    /// Starts receiving the measurements whose names match any of <paramref name="patterns"/> (see
    /// <see cref="MeasurementPattern"/>), in the order they arrive. Measurements published before this
    /// returns are not received.
    /// </summary>
    /// <exception cref="ArgumentException">A pattern is malformed; the message names it.</exception>
    ValueTask<IMeasurementSubscription> SubscribeAsync(IReadOnlyList<string> patterns, CancellationToken cancellationToken);
}

/// <summary>An open subscription. Disposing it stops delivery.</summary>
public interface IMeasurementSubscription : IAsyncDisposable
{
    /// <summary>The patterns subscribed to.</summary>
    IReadOnlyList<string> Patterns { get; }

    /// <summary>
    /// The next measurement, waiting at most <paramref name="timeout"/> (pywaggle's <c>get(timeout)</c>);
    /// null when none came in time, or when the subscription has ended and no more will come.
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until one comes or the subscription ends.
    /// </summary>
    ValueTask<Measurement?> GetAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// Measurement name patterns, as pywaggle and RabbitMQ's topic exchange read them: names are
/// dot-separated parts, <c>*</c> stands for exactly one part and <c>#</c> for zero or more, so
/// <c>env.temperature</c> matches itself, <c>my.sensor.*</c> matches <c>my.sensor.a</c> but not
/// <c>my.sensor.a.b</c>, and <c>sys.#</c> matches <c>sys</c>, <c>sys.uptime</c> and <c>sys.cpu.load</c>.
/// </summary>
public static class MeasurementPattern
{
    /// <summary>Checks a pattern: 1 to 255 characters, parts separated by single dots, each part a wildcard or free of them.</summary>
    /// <exception cref="ArgumentException">The pattern is malformed; the message says how.</exception>
    public static void Validate(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Length is 0 or > 255)
        {
            throw new ArgumentException($"Subscription pattern '{pattern}' must be 1 to 255 characters.", nameof(pattern));
        }

        foreach (var part in pattern.Split('.'))
        {
            if (part.Length == 0)
            {
                throw new ArgumentException($"Subscription pattern '{pattern}' has an empty part: parts are separated by single dots.", nameof(pattern));
            }

            if (part is not ("*" or "#") && part.AsSpan().IndexOfAny('*', '#') >= 0)
            {
                throw new ArgumentException($"Subscription pattern '{pattern}': '*' and '#' stand for whole parts (my.sensor.*), not for letters inside one ('{part}').", nameof(pattern));
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        return Match(pattern.Split('.'), 0, name.Split('.'), 0);
    }

    private static bool Match(string[] pattern, int p, string[] name, int n)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] == "#")
            {
                // '#' takes as many parts as lets the rest match, none included.
                for (var skip = n; skip <= name.Length; skip++)
                {
                    if (Match(pattern, p + 1, name, skip))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (n == name.Length || (pattern[p] != "*" && !string.Equals(pattern[p], name[n], StringComparison.Ordinal)))
            {
                return false;
            }

            p++;
            n++;
        }

        return n == name.Length;
    }
}
