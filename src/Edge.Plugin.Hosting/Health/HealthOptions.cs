namespace Edge.Plugin.Hosting.Health;

/// <summary>
/// The health endpoint, bound from the <c>Health</c> section: Kubernetes liveness and readiness probes
/// call <c>GET /healthz</c> and <c>GET /readyz</c> on <see cref="Port"/>.
/// </summary>
public sealed class HealthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Health";

    /// <summary>The TCP port to serve on; unset turns the endpoint off, 0 lets the system choose.</summary>
    public int? Port { get; set; }

    /// <summary>The address to listen on; all interfaces by default, as a pod's probes need.</summary>
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>
    /// After a first successful frame, the plugin reports itself not alive when no frame has succeeded
    /// for this many seconds, so Kubernetes restarts a plugin whose camera or model has hung. 0 turns the check off.
    /// </summary>
    public double StaleAfterSeconds { get; set; } = 300;
}

/// <summary>Implemented by publishers that hold measurements not yet delivered (a spool, a queue), so health reports it.</summary>
public interface IPublisherBacklog
{
    /// <summary>Measurements accepted but not yet delivered.</summary>
    long Backlog { get; }
}
