// Fetch throughput of one large object from a loopback s3rver: Edge.Storage's S3 model source
// (HEAD, signed GET, SHA-256 while streaming, fsync, rename into the cache) against curl downloading
// the same object to a file, and curl followed by `sync FILE` (the same fsync Edge.Storage does before
// its rename), alternating in the same run. Reports medians and both ratios (target >= 0.9).
// Usage: Edge.Storage.Benchmarks [size MiB = 200] [rounds = 5]
using System.Diagnostics;
using System.Globalization;
using Edge.Plugin;
using Edge.Storage;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var sizeMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var work = Directory.CreateTempSubdirectory("storage-bench-").FullName;
await using var server = await S3Server.StartAsync();
try
{
    var source = Path.Combine(work, "model.bin");
    var bytes = new byte[1 << 20];
    var random = new Random(42);
    await using (var file = File.Create(source))
    {
        for (var i = 0; i < sizeMiB; i++)
        {
            random.NextBytes(bytes);
            file.Write(bytes);
        }
    }

    await using var upload = Provider(server, Path.Combine(work, "upload-cache"));
    var uploadClock = Stopwatch.StartNew();
    var uploaded = await upload.GetRequiredService<ArtifactUploader>().UploadFileAsync(source, "bench/model.bin", "models");
    Console.WriteLine($"uploaded {sizeMiB} MiB in {uploaded.Parts} parts: {sizeMiB / uploadClock.Elapsed.TotalSeconds:F0} MiB/s");

    var url = $"{server.Endpoint}/models/bench/model.bin";
    var curlRates = new List<double>();
    var syncedRates = new List<double>();
    var edgeRates = new List<double>();
    for (var round = 0; round <= rounds; round++)
    {
        // Round 0 warms the server's page cache and the JIT; it is not counted.
        var target = Path.Combine(work, "curl.bin");
        var clock = Stopwatch.StartNew();
        await RunAsync("curl", ["-sS", "-f", "-o", target, url]);
        var curlRate = sizeMiB / clock.Elapsed.TotalSeconds;
        File.Delete(target);

        // Edge.Storage fsyncs before the rename (its durability promise); coreutils sync FILE fsyncs that file.
        clock.Restart();
        await RunAsync("curl", ["-sS", "-f", "-o", target, url]);
        await RunAsync("sync", [target]);
        var syncedRate = sizeMiB / clock.Elapsed.TotalSeconds;
        File.Delete(target);

        var cache = Path.Combine(work, $"cache-{round}");
        await using (var services = Provider(server, cache))
        {
            var reference = ModelReference.Parse("s3://models/bench/model.bin");
            var model = services.GetServices<IModelSource>().First(s => s.Schemes.Contains("s3"));
            clock.Restart();
            var path = await model.GetLocalPathAsync(reference, CancellationToken.None);
            var edgeRate = sizeMiB / clock.Elapsed.TotalSeconds;
            if (new FileInfo(path).Length != (long)sizeMiB << 20)
            {
                throw new InvalidOperationException("the fetched file has the wrong size");
            }

            if (round > 0)
            {
                curlRates.Add(curlRate);
                syncedRates.Add(syncedRate);
                edgeRates.Add(edgeRate);
            }

            Console.WriteLine($"round {round}{(round == 0 ? " (warm-up)" : "")}: curl {curlRate:F0} MiB/s, curl+sync {syncedRate:F0} MiB/s, Edge.Storage {edgeRate:F0} MiB/s");
        }

        Directory.Delete(cache, recursive: true);
    }

    var curlMedian = Median(curlRates);
    var syncedMedian = Median(syncedRates);
    var edgeMedian = Median(edgeRates);
    Console.WriteLine($"median of {rounds}: curl {curlMedian:F0} MiB/s, curl+sync {syncedMedian:F0} MiB/s, Edge.Storage {edgeMedian:F0} MiB/s");
    Console.WriteLine($"ratio vs curl {edgeMedian / curlMedian:F2}, vs curl+sync {edgeMedian / syncedMedian:F2} (target >= 0.90)");
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static async Task RunAsync(string program, string[] arguments)
{
    using var process = Process.Start(program, arguments) ?? throw new InvalidOperationException($"{program} did not start");
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{program} failed with {process.ExitCode}");
    }
}

static ServiceProvider Provider(S3Server server, string cache) => new ServiceCollection()
    .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
    .AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning))
    .AddModelStore(o =>
    {
        o.S3.Endpoint = server.Endpoint;
        o.S3.AccessKey = S3Server.AccessKey;
        o.S3.SecretKey = S3Server.SecretKey;
        o.Cache.Directory = cache;
    })
    .BuildServiceProvider();
