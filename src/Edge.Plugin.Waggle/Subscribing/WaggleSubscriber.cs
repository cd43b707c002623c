using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Waggle;

/// <summary>
/// pywaggle's <c>subscribe</c>: each subscription is its own connection to the node's RabbitMQ with a
/// server-named exclusive queue bound to <c>data.topic</c>, where the node's data-sharing service
/// republishes every plugin's measurements with the name as routing key.
/// </summary>
internal sealed class WaggleSubscriber(IOptions<WaggleOptions> options, ILoggerFactory loggers) : IMeasurementSubscriber, IAsyncDisposable
{
    private readonly ConcurrentDictionary<WaggleSubscription, byte> _open = new();
    private readonly ILogger _logger = loggers.CreateLogger(WaggleOptions.LogCategory);
    private int _disposed;

    public string Name => "waggle";

    public async ValueTask<IMeasurementSubscription> SubscribeAsync(IReadOnlyList<string> patterns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        if (patterns.Count == 0)
        {
            throw new ArgumentException("Name at least one pattern to subscribe to, such as env.temperature or sys.#.", nameof(patterns));
        }

        foreach (var pattern in patterns)
        {
            MeasurementPattern.Validate(pattern);
        }

        var subscription = await WaggleSubscription.OpenAsync(options.Value, [.. patterns], _logger, s => _open.TryRemove(s, out _), cancellationToken).ConfigureAwait(false);
        _open.TryAdd(subscription, 0);
        return subscription;
    }

    /// <summary>Closes what the plugin left open, so no connection outlives the host.</summary>
    public async ValueTask DisposeAsync()
    {
        // The container disposes it once per registration it is reachable through.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var subscription in _open.Keys)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }
}
