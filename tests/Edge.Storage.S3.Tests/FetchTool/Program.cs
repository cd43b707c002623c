// Usage: Edge.Storage.FetchTool <endpoint> <cache dir> <reference> <max bytes per second>
// Prints one line: "downloads=<n> path=<local path>"; logs go to stderr.
using Edge.Plugin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var services = new ServiceCollection()
    .AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())
    .AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter("Microsoft", LogLevel.Warning))
    .Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
    .AddModelStore(o =>
    {
        o.Cache.Directory = args[1];
        o.MaxBytesPerSecond = long.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
    })
    .AddS3Storage(o =>
    {
        o.Endpoint = args[0];
        o.AccessKey = "S3RVER";
        o.SecretKey = "S3RVER";
    });
await using var provider = services.BuildServiceProvider();
var reference = ModelReference.Parse(args[2]);
var source = provider.GetServices<IModelSource>().First(s => s.Schemes.Contains(reference.Scheme));
var path = await source.GetLocalPathAsync(reference, CancellationToken.None);
var downloads = ((Edge.Storage.Caching.RemoteModelSource)source).Downloads;
Console.WriteLine($"downloads={downloads} path={path}");
