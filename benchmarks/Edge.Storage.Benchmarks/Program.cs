// Fetch throughput of one large object from a loopback s3rver: Edge.Storage.S3's model source (HEAD,
// signed GET, SHA-256 while streaming, fsync, rename into the cache) against curl downloading the same
// object to a file, alone and with the same flush and verification added by sync and sha256sum, all in
// turn in each round. Reports medians and ratios.
// Usage: Edge.Storage.Benchmarks [size MiB = 200] [rounds = 5]
using System.Diagnostics;
using System.Globalization;
using Edge.Plugin;
using Edge.Storage.S3;
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
    var target = Path.Combine(work, "curl.bin");

    // What a fetch does, built up from plain curl: Edge.Storage always verifies a SHA-256 while the
    // bytes arrive, and by default fsyncs before the rename (coreutils `sync FILE` fsyncs that file).
    var fetches = new (string Name, Func<Task> Run)[]
    {
        ("curl", () => RunAsync("sh", ["-c", "curl -sS -f -o \"$1\" \"$2\"", "-", target, url])),
        ("curl+sync", () => RunAsync("sh", ["-c", "curl -sS -f -o \"$1\" \"$2\" && sync \"$1\"", "-", target, url])),
        ("curl+sha256sum+sync", () => RunAsync("sh", ["-c", "curl -sS -f -o \"$1\" \"$2\" && sha256sum \"$1\" >/dev/null && sync \"$1\"", "-", target, url])),
        ("Edge.Storage", FetchAsync),
    };
    var rates = fetches.ToDictionary(f => f.Name, _ => new List<double>());
    for (var round = 0; round <= rounds; round++)
    {
        // Round 0 warms the server's page cache and the JIT; it is not counted.
        var line = new List<string>();
        foreach (var (name, run) in fetches)
        {
            var clock = Stopwatch.StartNew();
            await run();
            var rate = sizeMiB / clock.Elapsed.TotalSeconds;
            File.Delete(target);
            if (round > 0)
            {
                rates[name].Add(rate);
            }

            line.Add($"{name} {rate:F0}");
        }

        Console.WriteLine($"round {round}{(round == 0 ? " (warm-up)" : "")} MiB/s: {string.Join(", ", line)}");
    }

    Console.WriteLine($"median of {rounds} MiB/s: {string.Join(", ", fetches.Select(f => $"{f.Name} {Median(rates[f.Name]):F0}"))}");

    // Each round's fetches ran back to back, so a per-round ratio is less exposed to the machine's drift
    // than a ratio of medians; both are printed.
    foreach (var (ours, reference) in new[] { ("Edge.Storage", "curl"), ("Edge.Storage", "curl+sync"), ("Edge.Storage", "curl+sha256sum+sync") })
    {
        var paired = Median(rates[ours].Zip(rates[reference], (a, b) => a / b).ToList());
        Console.WriteLine($"{ours} vs {reference}: {Median(rates[ours]) / Median(rates[reference]):F2} (ratio of medians), {paired:F2} (median of per-round ratios); target >= 0.90");
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

async Task FetchAsync()
{
    var cache = Path.Combine(work, "cache");
    try
    {
        await using var services = Provider(server, cache);
        var model = services.GetServices<IModelSource>().First(s => s.Schemes.Contains("s3"));
        var path = await model.GetLocalPathAsync(ModelReference.Parse("s3://models/bench/model.bin"), CancellationToken.None);
        if (new FileInfo(path).Length != (long)sizeMiB << 20)
        {
            throw new InvalidOperationException("the fetched file has the wrong size");
        }
    }
    finally
    {
        Directory.Delete(cache, recursive: true);
    }
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
    .AddModelStore(o => o.Cache.Directory = cache)
    .AddS3Storage(o =>
    {
        o.Endpoint = server.Endpoint;
        o.AccessKey = S3Server.AccessKey;
        o.SecretKey = S3Server.SecretKey;
    })
    .BuildServiceProvider();
