using System.Globalization;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Waggle;

/// <summary>Checks the Waggle settings at start-up, naming each bad one by its configuration key.</summary>
internal sealed class WaggleOptionsValidator : IValidateOptions<WaggleOptions>
{
    private const string Section = WaggleOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, WaggleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            failures.Add($"{Section}:Host is empty: set WAGGLE_PLUGIN_HOST or {Section}:Host to the node's RabbitMQ.");
        }
        else if (options.Host.Contains("://", StringComparison.Ordinal) || options.Host.Contains('@', StringComparison.Ordinal))
        {
            // Not echoed: an amqp:// URL here carries user:password, and the host would be logged with it on every reconnect.
            failures.Add($"{Section}:Host must be the RabbitMQ host name or address, not an amqp:// URL or user@host: give the user and password in {Section}:Username and {Section}:Password (WAGGLE_PLUGIN_USERNAME, WAGGLE_PLUGIN_PASSWORD).");
        }

        if (options.Port is < 1 or > 65535)
        {
            failures.Add(options.UnusablePortVariable is { } text && options.Port == 0
                ? $"WAGGLE_PLUGIN_PORT must be a port number (1-65535); got '{text}'."
                : $"{Section}:Port must be 1-65535; got {options.Port.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (string.IsNullOrWhiteSpace(options.Exchange))
        {
            failures.Add($"{Section}:Exchange is empty; Waggle nodes take measurements on to-validator.");
        }

        Positive(failures, nameof(options.ConnectTimeout), options.ConnectTimeout);
        Positive(failures, nameof(options.ConfirmTimeout), options.ConfirmTimeout);
        Positive(failures, nameof(options.ReconnectDelay), options.ReconnectDelay);
        Positive(failures, nameof(options.MaxReconnectDelay), options.MaxReconnectDelay);
        if (options.MaxReconnectDelay < options.ReconnectDelay)
        {
            failures.Add($"{Section}:MaxReconnectDelay ({options.MaxReconnectDelay}) must be at least ReconnectDelay ({options.ReconnectDelay}).");
        }

        failures.AddRange(options.Spool.Problems($"{Section}:Spool"));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:{key} must be positive; got {value}.");
        }
    }
}
