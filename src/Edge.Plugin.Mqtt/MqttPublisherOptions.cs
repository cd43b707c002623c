using Edge.Mqtt;
using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Mqtt;

/// <summary>What an MQTT message carries for a measurement.</summary>
public enum MqttPayloadFormat
{
    /// <summary>Waggle's JSON body: <c>{"name","ts","meta","val"}</c>, <c>ts</c> in nanoseconds.</summary>
    Json,

    /// <summary>The value alone as text, such as <c>3</c> or <c>0.92</c>.</summary>
    Value,
}

/// <summary>Options of the MQTT publisher, bound from <c>Publishing:Mqtt</c> (environment: <c>Publishing__Mqtt__Server</c>).</summary>
public sealed class MqttPublisherOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Publishing:Mqtt";

    /// <summary>The broker's host name or address. Required.</summary>
    public string? Server { get; set; }

    /// <summary>The broker's port; 0 means 1883, or 8883 with TLS.</summary>
    public int Port { get; set; }

    /// <summary>V311 (default) or V500.</summary>
    public MqttProtocolVersion ProtocolVersion { get; set; } = MqttProtocolVersion.V311;

    /// <summary>The client identifier; empty for a random one.</summary>
    public string? ClientId { get; set; }

    /// <summary>User name, if the broker wants one.</summary>
    public string? UserName { get; set; }

    /// <summary>Password, if the broker wants one.</summary>
    public string? Password { get; set; }

    /// <summary>Connect over TLS. Implied by <see cref="CaFile"/> or <see cref="CertificateFile"/>.</summary>
    public bool UseTls { get; set; }

    /// <summary>A PEM file of CA certificates to trust instead of the system store.</summary>
    public string? CaFile { get; set; }

    /// <summary>A PEM client certificate, for brokers that require one.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>, when not inside it.</summary>
    public string? KeyFile { get; set; }

    /// <summary>0, 1 (default) or 2.</summary>
    public int Qos { get; set; } = 1;

    /// <summary>Publish as retained messages, so late subscribers see the latest value.</summary>
    public bool Retain { get; set; }

    /// <summary>
    /// The topic for a measurement: <c>{name}</c> is its name (<c>env.count.car</c>), <c>{path}</c> the name
    /// with dots as slashes (<c>env/count/car</c>), <c>{scope}</c> its Waggle scope. Default <c>edge/{name}</c>.
    /// </summary>
    public string Topic { get; set; } = "edge/{name}";

    /// <summary>The payload format. Default <see cref="MqttPayloadFormat.Json"/>.</summary>
    public MqttPayloadFormat Payload { get; set; } = MqttPayloadFormat.Json;

    /// <summary>Keep-alive in seconds. Default 30.</summary>
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>
    /// How many measurements may wait while the broker is unreachable. They wait in the spool, on
    /// disk (they used to wait in memory, and publishing waited when this was full); past this many,
    /// or past <c>Spool:MaxBytes</c>, <c>Spool:WhenFull</c> decides: the oldest are dropped (the
    /// default) or the new one is refused and counted as a failure. Default 10,000.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long stopping waits for the spool to empty into a broker that is up; what is left waits on
    /// disk for the next run. Not waited for when the broker is already known to be down. Default 10 s.
    /// </summary>
    public double ShutdownTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long one message may wait for the broker's acknowledgement before the broker counts as
    /// down and the spool takes over (the message stays in the client's session, so it is not sent
    /// twice). Default 10 s.
    /// </summary>
    public double AckTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// The spool that keeps measurements until the broker has acknowledged them, across broker
    /// outages and restarts of the plugin. Default folder: <c>edge-plugin/spool/mqtt-&lt;server&gt;-&lt;port&gt;</c>
    /// under the system temporary folder; on a node, put it on a volume that outlives the container.
    /// </summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>The port connected to: <see cref="Port"/>, or the standard one for plain or TLS connections.</summary>
    internal static int EffectivePort(MqttPublisherOptions o) =>
        o.Port != 0 ? o.Port : (o.UseTls || o.CaFile is { Length: > 0 } || o.CertificateFile is { Length: > 0 } ? 8883 : 1883);

    /// <summary>One spool per broker, as the REST publisher keeps one per endpoint.</summary>
    internal string DefaultSpoolDirectory() =>
        Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "mqtt-" + string.Concat($"{Server}-{EffectivePort(this)}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')));
}

/// <summary>Checks <see cref="MqttPublisherOptions"/> at start-up, naming the configuration key of each problem.</summary>
internal sealed class MqttPublisherOptionsValidator : IValidateOptions<MqttPublisherOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttPublisherOptions options)
    {
        const string S = MqttPublisherOptions.SectionName;
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Server))
        {
            failures.Add($"{S}:Server is not set: give the broker's host name, e.g. Publishing__Mqtt__Server=localhost.");
        }
        else if (options.Server.Contains("://", StringComparison.Ordinal) || options.Server.Contains('@', StringComparison.Ordinal))
        {
            // Not echoed: a URL here often carries user:password, and the host name would be logged with it on every retry.
            failures.Add($"{S}:Server must be the broker's host name or address, not a URL or user@host: give the user name and password in {S}:UserName and {S}:Password.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{S}:Port {options.Port} is not a TCP port (0 to 65535; 0 picks 1883 or 8883).");
        }

        if (options.ProtocolVersion is not (MqttProtocolVersion.V311 or MqttProtocolVersion.V500))
        {
            failures.Add($"{S}:ProtocolVersion must be V311 or V500.");
        }

        if (options.Qos is < 0 or > 2)
        {
            failures.Add($"{S}:Qos must be 0, 1 or 2; got {options.Qos}.");
        }

        if (string.IsNullOrWhiteSpace(options.Topic))
        {
            failures.Add($"{S}:Topic is empty; the default is edge/{{name}}.");
        }
        else if (options.Topic.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            failures.Add($"{S}:Topic '{options.Topic}' contains '+' or '#', which only subscriptions may use.");
        }

        if (!Enum.IsDefined(options.Payload))
        {
            failures.Add($"{S}:Payload must be Json or Value.");
        }

        if (options.KeepAliveSeconds is < 0 or > ushort.MaxValue)
        {
            failures.Add($"{S}:KeepAliveSeconds must be 0 to 65535; got {options.KeepAliveSeconds}.");
        }

        if (options.QueueCapacity is < 1 or > 1_000_000)
        {
            failures.Add($"{S}:QueueCapacity must be 1 to 1000000; got {options.QueueCapacity}.");
        }

        if (options.ShutdownTimeoutSeconds is < 0 or > 3600 || double.IsNaN(options.ShutdownTimeoutSeconds))
        {
            failures.Add($"{S}:ShutdownTimeoutSeconds must be 0 to 3600; got {options.ShutdownTimeoutSeconds}.");
        }

        if (options.AckTimeoutSeconds is <= 0 or > 3600 || double.IsNaN(options.AckTimeoutSeconds))
        {
            failures.Add($"{S}:AckTimeoutSeconds must be more than 0 and at most 3600; got {options.AckTimeoutSeconds}.");
        }

        failures.AddRange(options.Spool.Problems($"{S}:Spool"));

        if (options.UserName is null && options.Password is not null)
        {
            failures.Add($"{S}:Password is set without {S}:UserName.");
        }

        foreach (var (key, file) in new[] { ("CaFile", options.CaFile), ("CertificateFile", options.CertificateFile), ("KeyFile", options.KeyFile) })
        {
            if (file is { Length: > 0 } && !File.Exists(file))
            {
                failures.Add($"{S}:{key} '{file}' does not exist.");
            }
        }

        if (options.KeyFile is { Length: > 0 } && options.CertificateFile is not { Length: > 0 })
        {
            failures.Add($"{S}:KeyFile is set without {S}:CertificateFile.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
