using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>
/// Puts a durable spool in front of a network link. A record goes straight to the link while the
/// link is up and nothing is waiting; otherwise it is appended to the spool, and a background loop
/// delivers the spool oldest first, removing each record only once the link has accepted it. So
/// records arrive in the order they were submitted, across broker restarts and process crashes
/// (at-least-once: a crash between delivery and removal sends one record twice).
/// </summary>
internal sealed partial class SpooledDelivery : IAsyncDisposable
{
    private readonly IDeliveryLink _link;
    private readonly DurableSpool _spool;
    private readonly ILogger _logger;
    private readonly Backoff _backoff;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _retry = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _drainer;
    private readonly TimeSpan _drainOnStop;
    private volatile bool _linkDown;
    private volatile bool _lastAttemptFailed;
    private volatile bool _saidBack;
    private long _delivered;
    private int _disposed;
    private long _rejected;

    public SpooledDelivery(IDeliveryLink link, DurableSpool spool, ILogger logger, Backoff? backoff = null, TimeSpan? drainOnStop = null)
    {
        _link = link;
        _spool = spool;
        _logger = logger;
        _backoff = backoff ?? new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30));
        _drainOnStop = drainOnStop ?? TimeSpan.FromSeconds(5);
        _linkDown = spool.Count > 0;
        _drainer = Task.Run(DrainAsync);
    }

    /// <summary>Records waiting in the spool.</summary>
    public int Waiting => _spool.Count;

    /// <summary>Records the link has accepted, directly or from the spool.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records the far end refused for good; they were logged and dropped.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>The spool behind the link.</summary>
    public DurableSpool Spool => _spool;

    /// <summary>
    /// Delivers or spools a record. Returning means it was delivered or durably spooled.
    /// <paramref name="cancellationToken"/> cuts short only the wait for the link: a record whose
    /// delivery was cancelled (a plugin stopping) is spooled instead, because spooling is local and
    /// quick, and dropping a result that was already computed would lose it for nothing.
    /// </summary>
    /// <exception cref="DeliveryRejectedException">The far end refused the record for good.</exception>
    /// <exception cref="SpoolFullException">The link is down, the spool is full and its policy drops the newest.</exception>
    public async ValueTask SubmitAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        var entered = false;
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            entered = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The gate is held by a send; the spool keeps its own order, so append without it.
        }

        try
        {
            if (entered && !_linkDown && _spool.Count == 0)
            {
                try
                {
                    await _link.SendAsync(record, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _delivered);
                    return;
                }
                catch (LinkDownException e)
                {
                    _linkDown = true;
                    _lastAttemptFailed = true;
                    _saidBack = false;
                    LogLinkDown(_logger, _link.Description, e.Message, _spool.Directory);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The far end may have taken it already: spooling it may send it twice, which at-least-once allows.
                    LogSpooledOnCancel(_logger, _link.Description, _spool.Directory);
                }
            }

            _spool.Append(record.Span);
        }
        finally
        {
            if (entered)
            {
                _gate.Release();
            }
        }

        _wake.Release();
    }

    /// <summary>
    /// Says the link may be back (an MQTT client reconnected), so that the spool is tried now rather
    /// than after the rest of its backoff, which may have grown to its maximum during a long outage.
    /// </summary>
    public void Retry()
    {
        // Up again, as far as the link knows: the last failure no longer means the far end is down.
        _saidBack = true;
        if (Volatile.Read(ref _disposed) == 0 && _retry.CurrentCount == 0)
        {
            try
            {
                _retry.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller released it first; one retry is enough.
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nothing is left to retry.
            }
        }
    }

    /// <summary>Waits until the spool is empty or the time is up; true when it emptied.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (_spool.Count > 0)
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            _wake.Release();
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    public ValueTask DisposeAsync() => CloseAsync(_drainOnStop);

    /// <summary>
    /// Gives a live link up to <paramref name="drain"/> to empty the spool, then stops; what is left
    /// waits on disk for the next run. A publisher that spent part of its shutdown time already (on a
    /// first connect) passes what remains, so that stopping never takes longer than that time once.
    /// </summary>
    public async ValueTask CloseAsync(TimeSpan drain)
    {
        // The container disposes a publisher once per registration it is reachable through.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_spool.Count > 0 && (!_lastAttemptFailed || _saidBack) && drain > TimeSpan.Zero)
        {
            await FlushAsync(drain).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _drainer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _link.DisposeAsync().ConfigureAwait(false);
        if (_spool.Count > 0)
        {
            LogLeftInSpool(_logger, _spool.Count, _spool.Directory);
        }

        _spool.Dispose();
        _stopping.Dispose();
        _gate.Dispose();
        _wake.Dispose();
        _retry.Dispose();
    }

    private async Task DrainAsync()
    {
        var stop = _stopping.Token;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            if (_spool.Count == 0)
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                continue;
            }

            TimeSpan? retryIn = null;
            await _gate.WaitAsync(stop).ConfigureAwait(false);
            try
            {
                var record = _spool.Peek();
                if (record is null)
                {
                    _linkDown = false;
                    continue;
                }

                try
                {
                    await _link.SendAsync(record, stop).ConfigureAwait(false);
                    _spool.RemoveHead();
                    Interlocked.Increment(ref _delivered);
                    if (_lastAttemptFailed)
                    {
                        LogLinkBack(_logger, _link.Description, _spool.Count);
                    }

                    failures = 0;
                    _lastAttemptFailed = false;
                    _linkDown = _spool.Count > 0;
                }
                catch (DeliveryRejectedException e)
                {
                    _spool.RemoveHead();
                    Interlocked.Increment(ref _rejected);
                    LogRejected(_logger, _link.Description, e.Message);
                }
                catch (LinkDownException e)
                {
                    _linkDown = true;
                    _lastAttemptFailed = true;
                    _saidBack = false;
                    retryIn = _backoff.Delay(failures++);
                    LogRetry(_logger, _link.Description, e.Message, _spool.Count, retryIn.Value.TotalSeconds);
                }
            }
            finally
            {
                _gate.Release();
            }

            if (retryIn is { } delay)
            {
                await _retry.WaitAsync(delay, stop).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Link} is unreachable ({Reason}); spooling to {Spool} until it returns")]
    private static partial void LogLinkDown(ILogger logger, string link, string reason, string spool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery to {Link} was cancelled (the plugin is stopping); the record was spooled to {Spool} instead")]
    private static partial void LogSpooledOnCancel(ILogger logger, string link, string spool);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Link} is back; {Waiting} record(s) still spooled")]
    private static partial void LogLinkBack(ILogger logger, string link, int waiting);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Link}: {Reason}; {Waiting} record(s) spooled, next try in {Seconds:F1} s")]
    private static partial void LogRetry(ILogger logger, string link, string reason, int waiting, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Link} refused a spooled record for good and it was dropped: {Reason}")]
    private static partial void LogRejected(ILogger logger, string link, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} record(s) remain spooled in {Spool}; they will be sent on the next start")]
    private static partial void LogLeftInSpool(ILogger logger, int count, string spool);
}
