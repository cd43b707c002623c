using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// The grab loop shared by cameras and streams. A background task connects, grabs items (encoded
/// images or raw frames) into a bounded latest-frame slot, and on any failure logs it, counts it,
/// waits with backoff and connects again; the loop never ends on its own except for a finite source
/// (a video file) reaching its end. <see cref="ReadAsync"/> takes the newest item and only then
/// turns it into a frame, so items a slow plugin never reads are dropped without being decoded.
/// </summary>
/// <typeparam name="T">What the grab loop hands over: an encoded image or a ready frame.</typeparam>
internal abstract partial class LiveFrameSource<T> : IFrameSource, IFrameSourceHealth
{
    private readonly Channel<T> _latest;
    private readonly CancellationTokenSource _stop = new();
    private readonly ReconnectBackoff _backoff;
    private readonly SemaphoreSlim _demand = new(0, 1);
    private readonly bool _finite;
    private Task? _loop;
    private bool _completed;
    private long _decoded;

    /// <param name="description">The URL or device, for logs and frames.</param>
    /// <param name="options">Capacity, backoff, stall timeout.</param>
    /// <param name="logger">Where disconnects and reconnects are logged.</param>
    /// <param name="finite">
    /// A source with an end (a video file): every frame is kept (the grab loop waits for the
    /// plugin instead of dropping), and a failure ends it rather than being retried.
    /// </param>
    protected LiveFrameSource(string description, InputOptions options, ILogger logger, bool finite)
    {
        Description = description;
        Options = options;
        Logger = logger;
        _finite = finite;
        Tracker = new SourceHealthTracker(description, options.StallTimeout, logger);
        _backoff = new ReconnectBackoff(options.ReconnectDelay, options.MaxReconnectDelay);
        var channel = new BoundedChannelOptions(options.Capacity)
        {
            FullMode = finite ? BoundedChannelFullMode.Wait : BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        };
        _latest = Channel.CreateBounded<T>(channel, dropped =>
        {
            Release(dropped);
            Tracker.Dropped();
        });
    }

    public string Description { get; }

    public SourceHealth Health => Tracker.Health;

    /// <summary>Items turned into frames: with a slow plugin, far fewer than were grabbed.</summary>
    public long Decoded => Interlocked.Read(ref _decoded);

    protected InputOptions Options { get; }

    protected ILogger Logger { get; }

    protected SourceHealthTracker Tracker { get; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken)
    {
        // Started on first read, not in the constructor, so that a source made and thrown away
        // (a bad configuration found later) never touches the network.
        _loop ??= Task.Run(RunAsync, CancellationToken.None);
        if (!_latest.Reader.TryRead(out var item))
        {
            if (_completed)
            {
                return null;
            }

            SignalDemand();
            try
            {
                item = await _latest.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException e)
            {
                _completed = true;
                return e.InnerException is { } error
                    ? throw new FrameSourceException(Description, error.Message, error)
                    : null;
            }
        }

        Interlocked.Increment(ref _decoded);
        return ToFrame(item);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping is what was asked for.
            }
        }

        while (_latest.Reader.TryRead(out var item))
        {
            Release(item);
        }

        await CloseAsync().ConfigureAwait(false);
        _stop.Dispose();
        _demand.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Connects and grabs until the stream ends (return) or fails (throw). Call <see cref="Connected"/>
    /// once frames flow and <see cref="EmitAsync"/> for each one.
    /// </summary>
    protected abstract Task GrabAsync(CancellationToken cancellationToken);

    /// <summary>Turns a grabbed item into a frame, releasing the item. Runs on the plugin's thread.</summary>
    /// <exception cref="FrameSourceException">The item could not be decoded.</exception>
    protected abstract Frame ToFrame(T item);

    /// <summary>Gives back what an item holds when it is dropped unread.</summary>
    protected abstract void Release(T item);

    protected virtual ValueTask CloseAsync() => ValueTask.CompletedTask;

    protected void Connected()
    {
        Tracker.Connected();
        _backoff.Reset();
    }

    protected ValueTask EmitAsync(T item, long timestampNs, CancellationToken cancellationToken)
    {
        Tracker.Frame(timestampNs);
        return _latest.Writer.WriteAsync(item, cancellationToken);
    }

    /// <summary>Waits until the plugin asks for a frame and none is waiting: pull-based sources (snapshot URLs) fetch only then.</summary>
    protected Task WaitForDemandAsync(CancellationToken cancellationToken) => _demand.WaitAsync(cancellationToken);

    private void SignalDemand()
    {
        if (_demand.CurrentCount == 0)
        {
            try
            {
                _demand.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another signal got there first; one is enough.
            }
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        Exception? error = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                string reason;
                try
                {
                    await GrabAsync(token).ConfigureAwait(false);
                    if (_finite)
                    {
                        if (!Options.Loop)
                        {
                            return;
                        }

                        continue;
                    }

                    reason = "the stream ended";
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (_finite)
                {
                    error = e;
                    return;
                }
                catch (Exception e)
                {
                    reason = Reason(e);
                }

                var delay = _backoff.NextDelay();
                Tracker.Disconnected(reason, delay);
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed while waiting to reconnect.
        }
        catch (Exception e)
        {
            // A fault in the loop itself: report it through ReadAsync instead of going quiet.
            LogLoopFailed(Logger, e, Description);
            error = e;
        }
        finally
        {
            _latest.Writer.TryComplete(error);
        }
    }

    private static string Reason(Exception e) => e.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && !e.Message.Contains(inner.Message, StringComparison.Ordinal)
        ? $"{e.Message} ({inner.Message})"
        : e.Message;

    [LoggerMessage(Level = LogLevel.Critical, Message = "The capture loop of {Source} failed; the source has stopped")]
    private static partial void LogLoopFailed(ILogger logger, Exception error, string source);
}
