using Edge.Inference;
using Edge.Plugin;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Storage.S3.Tests;

/// <summary>A running frame loop while a new model version lands in the store: it must switch over without a failed frame.</summary>
public sealed class HotReloadTests(S3ServerFixture fixture) : S3TestBase(fixture), IClassFixture<S3ServerFixture>
{
    [Fact]
    public async Task NewVersionInTheStore_IsSwappedInUnderARunningFrameLoop_WithNoFailedFrame()
    {
        await PutAsync("colour/2024-01-01T00-00-00/model.onnx", await File.ReadAllBytesAsync(RepoPaths.Model("colour-classifier.onnx")));
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:Model"] = S3Uri("colour/latest/model.onnx"),
            ["Inference:Reload:Interval"] = "00:00:00.200",
            ["Storage:S3:Endpoint"] = Server.Endpoint,
            ["Storage:S3:AccessKey"] = S3Server.AccessKey,
            ["Storage:S3:SecretKey"] = S3Server.SecretKey,
            ["Storage:Cache:Directory"] = Cache,
        });
        builder.Services.AddS3Storage().AddOnnxInference().AddModelReload();
        using var host = builder.Build();
        await host.StartAsync();
        var model = host.Services.GetRequiredService<ReloadableModel>();

        // Red dominates, blue is least present: version 1 answers "red", version 2 (inverted) "blue".
        using var frame = Frame.Rent(64, 48, PixelFormat.Rgb24, Clock.NowNs(), "test");
        for (var i = 0; i < frame.Pixels.Length; i += 3)
        {
            (frame.Pixels[i], frame.Pixels[i + 1], frame.Pixels[i + 2]) = ((byte)200, (byte)100, (byte)10);
        }

        var labels = new List<string>();
        var failures = new List<Exception>();
        OnnxModel? first = null;
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var lease = model.Acquire();
                    first ??= lease.Model;
                    var result = lease.Model.Run(frame);
                    labels.Add(Scores.Top(result["probabilities"], 1, lease.Model.Labels)[0].Label);
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            }
        });

        await Poll.UntilAsync(() => labels.Count >= 20, TimeSpan.FromSeconds(60), "20 frames are labelled by the first model");
        await PutAsync("colour/2024-02-01T00-00-00/model.onnx", await File.ReadAllBytesAsync(RepoPaths.Model("colour-classifier-inverted.onnx")));
        await Poll.UntilAsync(() => model.Swaps == 1, TimeSpan.FromSeconds(60), "the new model is swapped in");
        var atSwap = labels.Count;
        await Poll.UntilAsync(() => labels.Count >= atSwap + 20, TimeSpan.FromSeconds(60), "20 more frames are labelled after the swap");
        await stop.CancelAsync();
        await loop;
        await host.StopAsync();

        Assert.Empty(failures);
        var switchAt = labels.IndexOf("blue");
        Assert.True(switchAt >= 20, $"the new model answered too early or never: {string.Join(",", labels.Take(40))}");
        Assert.All(labels.Take(switchAt), l => Assert.Equal("red", l));
        Assert.All(labels.Skip(switchAt), l => Assert.Equal("blue", l));
        Assert.Throws<ObjectDisposedException>(() => first!.Run(frame));
        Assert.Contains(StorageBed.Sha256(await File.ReadAllBytesAsync(RepoPaths.Model("colour-classifier-inverted.onnx"))), model.Source, StringComparison.Ordinal);
    }
}
