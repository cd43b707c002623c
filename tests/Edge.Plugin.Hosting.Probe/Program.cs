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
//        probe model|model-tensors|model-timer <plugin options>    plugins that run -model (ModelPlugins.cs)
//        probe slow <release-file> <ignore|honour> <options>      like plugin, but each frame prints "in flight: <source>" to stderr and waits
//                                                                  for <release-file> to exist, ignoring its token (as a model run does) or honouring it
//        probe timer <release-file> <options>                      a timer plugin whose ticks wait so, then publish tick.number
//        probe subscriber <release-file> <options>                 a subscription plugin (Waggle) that waits so on each env.temperature, then republishes it
// Publishing:Rest:Url and Publishing:Mqtt:Server (Publishing__Rest__Url=... in the environment) add those publishers.
if (ModelPlugins.Modes.Contains(args[0]))
{
    return await ModelPlugins.RunAsync(args[0], args[1..]);
}

if (args[0] is "plugin" or "worker" or "slow" or "timer" or "subscriber")
{
    var release = args[0] is "slow" or "timer" or "subscriber" ? new Release(args[1], args[0] == "slow" && args[2] == "honour") : null;
    var options = args[(args[0] switch { "slow" => 3, "timer" or "subscriber" => 2, _ => 1 })..];
    var builder = EdgePlugin.CreateBuilder(options);
    builder.Services.AddAiCsd();
    if (builder.Configuration["Publishing:Rest:Url"] is { Length: > 0 })
    {
        builder.Services.AddRestPublisher();
    }

    if (builder.Configuration["Publishing:Mqtt:Server"] is { Length: > 0 })
    {
        builder.Services.AddMqttPublisher();
    }

    if (release is not null)
    {
        builder.Services.AddSingleton(release);
    }

    switch (args[0])
    {
        case "plugin":
            builder.AddPlugin<FrameSize>();
            break;
        case "worker":
            builder.AddPlugin<StampedFrameSize>();
            break;
        case "slow":
            builder.AddPlugin<SlowFrameSize>();
            break;
        case "timer":
            builder.AddPlugin<SlowTicks>();
            break;
        default:
            builder.Services.AddWaggle(force: true);
            builder.AddPlugin<SlowEcho>();
            break;
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

/// <summary>
/// Holds a unit of work in flight until the test creates a file: a test can then stop the process
/// while work is certainly in flight, and let it finish only after the stop has begun.
/// </summary>
internal sealed class Release(string file, bool honourToken)
{
    public async Task WaitAsync(string what, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"in flight: {what}");
        while (!File.Exists(file))
        {
            // Ignoring the token stands for work that cannot be interrupted, such as a model run.
            await Task.Delay(50, honourToken ? cancellationToken : CancellationToken.None);
        }
    }
}

/// <summary>Publishes the image's size once released.</summary>
internal sealed class SlowFrameSize(Release release) : FramePlugin
{
    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        var (width, height) = (frame.Width, frame.Height);
        await release.WaitAsync(Path.GetFileName(frame.Source), cancellationToken);
        await context.PublishAsync("image.width", (long)width, cancellationToken: cancellationToken);
        await context.PublishAsync("image.height", (long)height, cancellationToken: cancellationToken);
    }
}

/// <summary>Publishes the tick's number once released.</summary>
internal sealed class SlowTicks(Release release) : TimerPlugin
{
    private long _tick;

    protected internal override async ValueTask TickAsync(PluginContext context, CancellationToken cancellationToken)
    {
        var tick = ++_tick;
        await release.WaitAsync($"tick {tick}", cancellationToken);
        await context.PublishAsync("tick.number", tick, cancellationToken: cancellationToken);
    }
}

/// <summary>Republishes each env.temperature as env.temperature.echo once released.</summary>
internal sealed class SlowEcho(Release release) : SubscriptionPlugin
{
    public override IReadOnlyList<string> Topics { get; } = ["env.temperature"];

    protected internal override async ValueTask ReceiveAsync(Measurement measurement, PluginContext context, CancellationToken cancellationToken)
    {
        await release.WaitAsync(measurement.Name, cancellationToken);
        await context.PublishAsync(new Measurement("env.temperature.echo", measurement.Value, measurement.TimestampNs), cancellationToken);
    }
}
