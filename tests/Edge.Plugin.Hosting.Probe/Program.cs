using System.Globalization;
using Edge.Plugin;
using Edge.Plugin.Hosting;
using Edge.Plugin.Waggle;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// usage: probe plugin <plugin options>                            a plugin that publishes each image's width and height
//        probe spool <port> <spool-dir> publish <first> <count>   prints "ack N" once publish N returned, then waits to be killed
//        probe spool <port> <spool-dir> drain                      waits until the spool is empty, prints "drained", exits 0
//        probe worker <plugin options>                             like plugin, and also publishes its process id (to tell AiCSD workers apart);
//                                                                  a request whose ModelParams hold "die" kills the process with SIGKILL, as the OOM killer would
if (args[0] is "plugin" or "worker")
{
    var builder = EdgePlugin.CreateBuilder(args[1..]);
    builder.Services.AddAiCsd();
    if (args[0] == "plugin")
    {
        builder.AddPlugin<FrameSize>();
    }
    else
    {
        builder.AddPlugin<StampedFrameSize>();
    }

    await using var plugin = builder.Build();
    return await plugin.RunAsync();
}

args = args[1..];
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var services = new ServiceCollection()
    .AddLogging(b => b.AddSimpleConsole().AddFilter(l => l >= LogLevel.Information).Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace))
    .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());

// Forced on: the tests run it off a node, with the broker's port on the command line.
services.AddWaggle(
    o =>
    {
        o.Host = "127.0.0.1";
        o.Port = port;
        o.AppId = "spool-probe";
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.ConfirmTimeout = TimeSpan.FromSeconds(10);
        o.Spool.Directory = args[1];
    },
    force: true);
await using var provider = services.BuildServiceProvider();
var publisher = provider.GetRequiredService<WagglePublisher>();
if (args[2] == "drain")
{
    await Poll.TryUntilAsync(() => publisher.Delivery.Waiting == 0, TimeSpan.FromMinutes(3));
    Console.WriteLine($"drained waiting={publisher.Delivery.Waiting} delivered={publisher.Delivery.Delivered}");
    return publisher.Delivery.Waiting == 0 ? 0 : 1;
}

var first = long.Parse(args[3], CultureInfo.InvariantCulture);
var count = long.Parse(args[4], CultureInfo.InvariantCulture);
for (var i = first; i < first + count; i++)
{
    await publisher.PublishAsync(new Measurement("test.seq", i, Clock.NowNs()), CancellationToken.None);
    Console.WriteLine($"ack {i}");
}

Console.Out.Flush();
await Task.Delay(Timeout.Infinite);
return 0;

/// <summary>Publishes the image's size: a real decode, no model; and the request's "label" parameter when it has one.</summary>
internal sealed class FrameSize : FramePlugin
{
    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        await context.PublishAsync("image.width", (long)frame.Width, cancellationToken: cancellationToken);
        await context.PublishAsync("image.height", (long)frame.Height, cancellationToken: cancellationToken);
        if (context.Parameters.TryGetValue("label", out var label))
        {
            await context.PublishAsync("request.label", label, cancellationToken: cancellationToken);
        }
    }
}

/// <summary>The image's size and the process that measured it; a poison request for the AiCSD fault tests.</summary>
internal sealed class StampedFrameSize : FramePlugin
{
    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        if (context.Parameters.ContainsKey("die"))
        {
            // No exception, no finally, no flush: the end an out-of-memory kill gives a worker mid-request.
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        await context.PublishAsync("image.width", (long)frame.Width, cancellationToken: cancellationToken);
        await context.PublishAsync("image.height", (long)frame.Height, cancellationToken: cancellationToken);
        await context.PublishAsync("process.id", (long)Environment.ProcessId, cancellationToken: cancellationToken);
    }
}
