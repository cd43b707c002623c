using System.Globalization;
using Edge.Plugin;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Waggle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// usage: probe <port> <spool-dir> publish <first> <count>   prints "ack N" once publish N returned, then waits to be killed
//        probe <port> <spool-dir> drain                      waits until the spool is empty, prints "drained", exits 0
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var services = new ServiceCollection()
    .AddLogging(b => b.AddSimpleConsole().AddFilter(l => l >= LogLevel.Information).Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace))
    .AddWagglePublisher(o =>
    {
        o.Host = "127.0.0.1";
        o.Port = port;
        o.AppId = "spool-probe";
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.ConfirmTimeout = TimeSpan.FromSeconds(10);
        o.Spool.Directory = args[1];
    });
await using var provider = services.BuildServiceProvider();
var publisher = provider.GetRequiredService<WagglePublisher>();
if (args[2] == "drain")
{
    var deadline = DateTime.UtcNow.AddMinutes(3);
    while (publisher.Delivery.Waiting > 0 && DateTime.UtcNow < deadline)
    {
        await Task.Delay(50);
    }

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
