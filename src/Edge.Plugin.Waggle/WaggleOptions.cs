using Edge.Plugin.Hosting.Spool;

namespace Edge.Plugin.Waggle;

/// <summary>
/// Where and how the Waggle publisher connects. Defaults come from pywaggle's environment variables,
/// which a Waggle node sets for every plugin; the <c>Publishing:Waggle</c> configuration section overrides them.
/// </summary>
public sealed class WaggleOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Publishing:Waggle";

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

    /// <summary>The exchange; <c>to-validator</c> on every node.</summary>
    public string Exchange { get; set; } = "to-validator";

    /// <summary>How long a connection attempt may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for the broker to confirm a message. Default 30 s.</summary>
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The spool that keeps messages while the broker is unreachable.</summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>Reads pywaggle's environment variables.</summary>
    /// <exception cref="FormatException">WAGGLE_PLUGIN_PORT is not a port number.</exception>
    public static WaggleOptions FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var options = new WaggleOptions();
        options.Host = environment("WAGGLE_PLUGIN_HOST") ?? options.Host;
        if (environment("WAGGLE_PLUGIN_PORT") is { } port)
        {
            options.Port = int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                ? p
                : throw new FormatException($"WAGGLE_PLUGIN_PORT must be a port number (1-65535); got '{port}'.");
        }

        options.Username = environment("WAGGLE_PLUGIN_USERNAME") ?? options.Username;
        options.Password = environment("WAGGLE_PLUGIN_PASSWORD") ?? options.Password;
        options.AppId = environment("WAGGLE_APP_ID") ?? options.AppId;
        return options;
    }

    /// <summary>True when the environment says the plugin runs on a Waggle node (or against one).</summary>
    public static bool IsConfiguredByEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return environment("WAGGLE_PLUGIN_HOST") is { Length: > 0 } || environment("WAGGLE_APP_ID") is { Length: > 0 };
    }

    internal string DefaultSpoolDirectory()
    {
        var name = string.IsNullOrEmpty(AppId) ? $"{Host}-{Port}" : AppId;
        var safe = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(Path.GetTempPath(), "edge-plugin", "spool", "waggle-" + safe);
    }
}
