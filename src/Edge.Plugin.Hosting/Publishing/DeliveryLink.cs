namespace Edge.Plugin.Hosting.Publishing;

/// <summary>
/// One network destination that takes opaque records: a RabbitMQ exchange, an HTTP endpoint. A link
/// makes one attempt per call; retrying, ordering and spooling are <see cref="SpooledDelivery"/>'s job.
/// </summary>
internal interface IDeliveryLink : IAsyncDisposable
{
    /// <summary>Where it delivers, for logs: <c>amqp://rabbitmq:5672 to-validator</c>.</summary>
    string Description { get; }

    /// <summary>Delivers one record; returning means the far end has accepted it.</summary>
    /// <exception cref="LinkDownException">Not delivered this time, may succeed later (no connection, timeout, 5xx).</exception>
    /// <exception cref="DeliveryRejectedException">Will never be delivered as it is (4xx, malformed).</exception>
    ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken);
}

/// <summary>The link could not deliver now; the record should wait and be tried again.</summary>
internal sealed class LinkDownException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LinkDownException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LinkDownException()
        : this("The link is down.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LinkDownException(string message)
        : this(message, null)
    {
    }
}

/// <summary>The far end refused the record for good; sending it again would not help.</summary>
internal sealed class DeliveryRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeliveryRejectedException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeliveryRejectedException()
        : this("The record was rejected.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeliveryRejectedException(string message)
        : this(message, null)
    {
    }
}
