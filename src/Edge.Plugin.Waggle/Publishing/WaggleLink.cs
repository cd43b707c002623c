using Edge.Plugin.Hosting.Publishing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Edge.Plugin.Waggle;

/// <summary>
/// The AMQP link to a Waggle node's RabbitMQ: exchange <c>to-validator</c>, routing key = scope,
/// persistent delivery, <c>user_id</c> = the user, <c>app_id</c> = WAGGLE_APP_ID, as pywaggle
/// publishes. Unlike pywaggle it waits for the broker's publisher confirm, so a message counts as
/// delivered only once RabbitMQ has taken responsibility for it. A broken connection is dropped and
/// opened again on the next send.
/// </summary>
internal sealed class WaggleLink(WaggleOptions options) : IDeliveryLink
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    public string Description => $"Waggle RabbitMQ amqp://{options.Host}:{options.Port} exchange {options.Exchange}";

    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        var (scope, body) = WaggleRecord.Decode(record);
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            UserId = options.Username,
        };

        // pywaggle leaves app_id out when WAGGLE_APP_ID is empty; so do we.
        if (options.AppId.Length > 0)
        {
            properties.AppId = options.AppId;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConfirmTimeout);
        try
        {
            var channel = await ChannelAsync(timeout.Token).ConfigureAwait(false);
            await channel.BasicPublishAsync(options.Exchange, scope, mandatory: false, properties, body, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (PublishException e)
        {
            throw new LinkDownException($"the broker did not accept message {e.PublishSequenceNumber} (nack)", e);
        }
        catch (Exception e)
        {
            await CloseAsync().ConfigureAwait(false);
            var reason = e is OperationCanceledException ? $"no answer within {(_connection is null ? options.ConnectTimeout : options.ConfirmTimeout).TotalSeconds:F0} s" : WaggleConnections.Describe(e);
            throw new LinkDownException(reason, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _connecting.Dispose();
    }

    private async ValueTask<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }

        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is { IsOpen: true } raced)
            {
                return raced;
            }

            await CloseAsync().ConfigureAwait(false);
            var factory = WaggleConnections.Factory(options, "publisher");
            _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
            _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken).ConfigureAwait(false);
            return _channel;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private ValueTask CloseAsync() =>
        WaggleConnections.CloseQuietlyAsync(Interlocked.Exchange(ref _channel, null), Interlocked.Exchange(ref _connection, null));
}
