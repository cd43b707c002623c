using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

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

/// <summary>Checks the health settings at start, naming each bad one by its full key.</summary>
internal sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    // Beyond a month no plugin is usefully alive; the cap also keeps TimeSpan.FromSeconds in range.
    private const int MaxStaleAfterSeconds = 30 * 24 * 3600;

    public ValidateOptionsResult Validate(string? name, HealthOptions options)
    {
        const string S = HealthOptions.SectionName;
        var failures = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{S}:Port must be 0-65535 (0 lets the system choose); got {options.Port.Value.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!IPAddress.TryParse(options.Address, out _))
        {
            failures.Add($"{S}:Address must be an IP address such as 0.0.0.0 or 127.0.0.1; got '{options.Address}'.");
        }

        if (options.StaleAfterSeconds is < 0 or > MaxStaleAfterSeconds || double.IsNaN(options.StaleAfterSeconds))
        {
            failures.Add($"{S}:StaleAfterSeconds must be 0 (off) to {MaxStaleAfterSeconds} (30 days) seconds; got {options.StaleAfterSeconds.ToString(CultureInfo.InvariantCulture)}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
