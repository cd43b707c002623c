using System.Text.Json;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Secrets;
using Edge.Plugin.Hosting.Spool;

namespace Edge.Plugin.Hosting.Rest;

/// <summary>Settings of the REST publisher, bound from <c>Publishing:Rest</c>.</summary>
public sealed class RestPublisherOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Publishing:Rest";

    /// <summary>Where each measurement is sent. Required.</summary>
    public Uri? Url { get; set; }

    /// <summary><c>POST</c> (default) or <c>PUT</c>.</summary>
    public string Method { get; set; } = "POST";

    /// <summary>How one delivery attempt behaves; retries beyond the first come from the spool.</summary>
    public CallbackOptions Callback { get; set; } = new() { MaxAttempts = 1 };

    /// <summary>The spool that keeps measurements while the endpoint is unreachable or failing.</summary>
    public SpoolOptions Spool { get; set; } = new();

    internal HttpMethod HttpMethod => Method.ToUpperInvariant() switch
    {
        "POST" => HttpMethod.Post,
        "PUT" => HttpMethod.Put,
        _ => throw new InvalidOperationException($"{SectionName}:Method must be POST or PUT; got '{Method}'."),
    };
}

/// <summary>One HTTP endpoint as a delivery link: a 4xx answer rejects the record for good, anything else retryable means "try later".</summary>
internal sealed class RestLink(CallbackClient client, HttpMethod method, Uri url) : IDeliveryLink
{
    public string Description => $"{method} {Redaction.Url(url)}";

    public async ValueTask SendAsync(ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        try
        {
            await client.SendAsync(method, url, record, "application/json", cancellationToken).ConfigureAwait(false);
        }
        catch (CallbackException e) when (e.IsPermanent)
        {
            throw new DeliveryRejectedException(e.Message, e);
        }
        catch (CallbackException e)
        {
            throw new LinkDownException(e.Message, e);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Sends each measurement as Waggle-shaped JSON (<c>{"name","ts","meta","val"}</c>) to an HTTP
/// endpoint, through a durable spool: an endpoint that is down or answering 5xx gets the
/// measurements later, in order; one that answers 4xx has the measurement logged and dropped.
/// </summary>
internal sealed class RestPublisher(SpooledDelivery delivery) : IMeasurementPublisher, IPublisherBacklog, IAsyncDisposable
{
    public string Name => "rest";

    public long Backlog => delivery.Waiting;

    internal SpooledDelivery Delivery => delivery;

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MeasurementJson.WriteWaggleMessage(writer, measurement);
        }

        return delivery.SubmitAsync(buffer.ToArray(), cancellationToken);
    }

    public ValueTask DisposeAsync() => delivery.DisposeAsync();
}
