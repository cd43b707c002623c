using Edge.Plugin.Hosting;
using Edge.Mqtt;
using Edge.Plugin.Hosting.Rest;

namespace Edge.Plugin.AiCsd;

/// <summary>How the pipeline status reaches AiCSD's task launcher.</summary>
public enum AiCsdStatusBody
{
    /// <summary>The bare status word (<c>PipelineComplete</c>), as AiCSD's reference pipeline sends it. The default.</summary>
    Text,

    /// <summary>The whole response JSON, the same body as the job update.</summary>
    Json,
}

/// <summary>Settings of the AiCSD pipeline trigger, bound from <c>Triggers:AiCsd</c>.</summary>
public sealed class AiCsdOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Triggers:AiCsd";

    /// <summary>
    /// The folders that requests may read from and write to. A path outside them, through <c>..</c>
    /// or a symbolic link, fails the request. Default <c>/tmp/files</c>, AiCSD's mounted volume.
    /// </summary>
    public IList<string> AllowedRoots { get; } = ["/tmp/files"];

    /// <summary>The job update's HTTP method: <c>PUT</c> (default, as AiCSD's reference pipeline) or <c>POST</c>.</summary>
    public string JobUpdateMethod { get; set; } = "PUT";

    /// <summary>What the pipeline status POST carries. Default <see cref="AiCsdStatusBody.Text"/>.</summary>
    public AiCsdStatusBody StatusBody { get; set; } = AiCsdStatusBody.Text;

    /// <summary>
    /// Retries, redirects and read timeout of each callback. Redirects are followed to http and https
    /// only, at most <c>Callback:MaxRedirects</c> (default 5) times.
    /// </summary>
    public CallbackOptions Callback { get; set; } = new();

    /// <summary>
    /// The largest request accepted, in bytes; a larger one is answered <c>PipelineFailed</c> without
    /// being parsed. Default 64 KiB (AiCSD's requests are a few hundred bytes); 1 KiB to 16 MiB.
    /// </summary>
    public int MaxRequestBytes { get; set; } = AiCsdRequest.DefaultMaxBytes;

    /// <summary>
    /// The largest input file a request may name, in bytes; a larger one is answered <c>PipelineFailed</c>
    /// naming its size and this limit, before it is opened. Default 256 MiB (AiCSD's inputs are
    /// microscope images); at least 1.
    /// </summary>
    public long MaxInputBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Runs the plugin as an AiCSD pipeline worker instead of on <c>-input</c>; <c>-mode aicsd</c> sets it too.</summary>
    public bool Enabled { get; set; }

    /// <summary>The broker's host name: AiCSD's EdgeX MQTT broker on the gateway. Default <c>localhost</c>.</summary>
    public string Server { get; set; } = "localhost";

    /// <summary>The broker's port; 0 means 1883, or 8883 with TLS.</summary>
    public int Port { get; set; }

    /// <summary>V311 (default) or V500.</summary>
    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V311;

    /// <summary>User name, if the broker wants one.</summary>
    public string? UserName { get; set; }

    /// <summary>Password, if the broker wants one.</summary>
    public string? Password { get; set; }

    /// <summary>A PEM file of CA certificates; setting it (or <see cref="CertificateFile"/>) connects over TLS.</summary>
    public string? CaFile { get; set; }

    /// <summary>A PEM client certificate, for brokers that require one.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>, when not inside it.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The request topic. Default <c>mqtt-export/pipeline/params</c>, where AiCSD publishes.</summary>
    public string Topic { get; set; } = "mqtt-export/pipeline/params";

    /// <summary>
    /// A shared-subscription group: workers with the same group split the requests between them
    /// (<c>$share/&lt;group&gt;/&lt;topic&gt;</c>), each request going to one. Empty: every worker gets every request.
    /// </summary>
    public string? SharedGroup { get; set; }

    /// <summary>
    /// This worker's MQTT client identifier. It must be unique per worker and stable across its
    /// restarts: the broker keeps the worker's unfinished requests in the session of that name.
    /// Default <c>aicsd-&lt;host name&gt;</c>.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Keep the broker session across disconnections (default true): requests that arrived, or were
    /// being processed, while the worker was down are delivered when it returns. False loses them.
    /// </summary>
    public bool PersistentSession { get; set; } = true;

    /// <summary>MQTT 5: how long the broker keeps a vanished worker's session, in seconds; 0 or unset keeps it until the worker returns.</summary>
    public int SessionExpirySeconds { get; set; }

    /// <summary>
    /// Where a completion marker is kept for each request whose callbacks were delivered, so that a
    /// redelivered request is not processed twice. Shared by all workers on one host. Default
    /// <c>.edge-aicsd/completed</c> inside the first allowed root.
    /// </summary>
    public string? CompletedFolder { get; set; }

    /// <summary>How long completion markers are kept, in hours; older ones are removed at start. Default 24.</summary>
    public double CompletedRetentionHours { get; set; } = 24;

    internal string CompletedPath => CompletedFolder is { Length: > 0 } folder
        ? folder
        : Path.Combine(AllowedRoots.FirstOrDefault() ?? Path.GetTempPath(), ".edge-aicsd", "completed");

    internal string Subscription => SharedGroup is { Length: > 0 } group ? $"$share/{group}/{Topic}" : Topic;
}
