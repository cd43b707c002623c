using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Edge.Plugin.Waggle;

/// <summary>What the publisher's link and the subscriptions share about connecting to the node's RabbitMQ.</summary>
internal static class WaggleConnections
{
    /// <summary>
    /// A factory for one connection, named in the broker's connection list by <paramref name="role"/>
    /// and the app id. Reconnecting is the caller's: the spool must know a message was not confirmed,
    /// and a subscription re-declares its server-named queue itself.
    /// </summary>
    public static ConnectionFactory Factory(WaggleOptions options, string role) => new()
    {
        HostName = options.Host,
        Port = options.Port,
        UserName = options.Username,
        Password = options.Password,
        ClientProvidedName = options.AppId.Length > 0 ? $"edge-plugin {role} {options.AppId}" : $"edge-plugin {role}",
        AutomaticRecoveryEnabled = false,
        TopologyRecoveryEnabled = false,
        RequestedConnectionTimeout = options.ConnectTimeout,
    };

    /// <summary>A broker failure in one line, for logs.</summary>
    public static string Describe(Exception e) => e switch
    {
        BrokerUnreachableException { InnerException: { } inner } => $"cannot connect: {inner.Message}",
        OperationInterruptedException { ShutdownReason: { } reason } => $"{reason.ReplyCode} {reason.ReplyText}",
        _ => e.Message,
    };

    /// <summary>Closes a channel and its connection, either of which the broker may already have dropped.</summary>
    public static async ValueTask CloseQuietlyAsync(IChannel? channel, IConnection? connection)
    {
        try
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationInterruptedException or AlreadyClosedException or IOException or ObjectDisposedException)
        {
            // Closing a connection the broker already dropped fails; there is nothing left to release.
        }
    }
}
