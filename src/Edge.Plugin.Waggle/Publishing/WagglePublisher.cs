using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Publishing;

namespace Edge.Plugin.Waggle;

/// <summary>
/// Publishes measurements and upload announcements to a Waggle node, through a durable spool so
/// that neither a broker restart nor a plugin crash loses them.
/// </summary>
internal sealed class WagglePublisher(SpooledDelivery delivery) : IMeasurementPublisher, IUploadTarget, IPublisherBacklog, IAsyncDisposable
{
    public string Name => "waggle";

    public long Backlog => delivery.Waiting;

    internal SpooledDelivery Delivery => delivery;

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        return delivery.SubmitAsync(WaggleRecord.Encode(WaggleMessage.From(measurement)), cancellationToken);
    }

    public ValueTask PublishUploadAsync(StagedUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return delivery.SubmitAsync(WaggleRecord.Encode(new WaggleMessage("upload", upload.FolderName, upload.TimestampNs, upload.Meta, "all")), cancellationToken);
    }

    public ValueTask DisposeAsync() => delivery.DisposeAsync();
}
