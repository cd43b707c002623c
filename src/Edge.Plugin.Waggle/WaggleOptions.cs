using System.Globalization;
using Edge.Plugin.Hosting.Spool;

namespace Edge.Plugin.Waggle;

/// <summary>
/// Where and how the plugin reaches its Waggle node's RabbitMQ, to publish and to subscribe. Defaults
/// come from pywaggle's environment variables, which a node sets for every plugin; the
/// <c>Publishing:Waggle</c> configuration section overrides them (<c>Publishing__Waggle__Host</c>).
/// </summary>
public sealed class WaggleOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Publishing:Waggle";

    /// <summary>The variable whose presence says the plugin runs on a node.</summary>
    internal const string HostVariable = "WAGGLE_PLUGIN_HOST";

    /// <summary>The logger category of everything this package logs, publisher and subscriptions alike.</summary>
    internal const string LogCategory = "Edge.Plugin.Waggle";

    /// <summary>The node's RabbitMQ host (<c>WAGGLE_PLUGIN_HOST</c>, default <c>rabbitmq</c>).</summary>
    public string Host { get; set; } = "rabbitmq";

    /// <summary>Its AMQP port (<c>WAGGLE_PLUGIN_PORT</c>, default 5672).</summary>
    public int Port { get; set; } = 5672;

    /// <summary>The user (<c>WAGGLE_PLUGIN_USERNAME</c>, default <c>plugin</c>); also sent as each message's <c>user_id</c>.</summary>
    public string Username { get; set; } = "plugin";

    /// <summary>The password (<c>WAGGLE_PLUGIN_PASSWORD</c>, default <c>plugin</c>).</summary>
    public string Password { get; set; } = "plugin";

    /// <summary>The plugin's app id (<c>WAGGLE_APP_ID</c>), sent as <c>app_id</c> when set; the node uses it to tag data with the plugin's metadata.</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>The exchange measurements are published to; <c>to-validator</c> on every node.</summary>
    public string Exchange { get; set; } = "to-validator";

    /// <summary>How long a connection attempt may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the broker to confirm a message. Default 30 s.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a subscription waits before its first attempt to reconnect to a broker that went
    /// away. Each further failure doubles the wait (with jitter) up to <see cref="MaxReconnectDelay"/>.
    /// Default 1 s, pywaggle's fixed pause.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between a subscription's reconnect attempts. Default 30 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The spool that keeps messages while the broker is unreachable.</summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>WAGGLE_PLUGIN_PORT as the environment gave it, when it was not a port number; the validator names it.</summary>
    internal string? UnusablePortVariable { get; private set; }

    /// <summary>
    /// True on a Waggle node: its scheduler sets WAGGLE_PLUGIN_HOST for every plugin. WAGGLE_APP_ID alone
    /// is not enough, since without a host there is no broker to talk to.
    /// </summary>
    internal static bool IsOnNode(Func<string, string?> environment) => environment(HostVariable) is { Length: > 0 };

    /// <summary>Takes pywaggle's environment variables over the defaults.</summary>
    internal void ApplyEnvironment(Func<string, string?> environment)
    {
        Host = environment(HostVariable) ?? Host;
        if (environment("WAGGLE_PLUGIN_PORT") is { } port)
        {
            if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                Port = p;
            }
            else
            {
                // Left for the validator, so a bad variable fails start-up with its name like any bad setting.
                UnusablePortVariable = port;
                Port = 0;
            }
        }

        Username = environment("WAGGLE_PLUGIN_USERNAME") ?? Username;
        Password = environment("WAGGLE_PLUGIN_PASSWORD") ?? Password;
        AppId = environment("WAGGLE_APP_ID") ?? AppId;
    }

    internal string DefaultSpoolDirectory()
    {
        var name = string.IsNullOrEmpty(AppId) ? $"{Host}-{Port}" : AppId;
        var safe = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "waggle-" + safe);
    }
}
