using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Edge.Testing;
using Xunit.Abstractions;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>
/// The AiCSD trigger end to end: worker processes (the probe plugin with <c>-mode aicsd</c>), a real
/// mosquitto, requests published with mosquitto_pub, and a real HTTP server taking the callbacks.
/// </summary>
public sealed partial class AiCsdTriggerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _root = Directory.CreateTempSubdirectory("aicsd-mqtt-").FullName;
    private MosquittoBroker _broker = null!;

    private string Input => Path.Combine(_root, "input", "1.jpg");

    private string OutputFolder => Path.Combine(_root, "output");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_root, "input"));
        File.Copy(Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data", "sky.jpg"), Input);
        _broker = await MosquittoBroker.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Request_PublishedWithMosquittoPub_WritesOutputsThenUpdatesTheJobThenReportsComplete()
    {
        using var server = new CallbackServer();
        using var worker = new AiCsdWorker(_broker, "aicsd-happy", _root);
        await worker.WaitServingAsync(_broker);

        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-1"));
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-1"), worker);

        var calls = server.Requests.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Equal(("PUT", "/api/v1/job/pipeline/job-1/task-1"), (calls[0].Method, calls[0].Path));
        Assert.Equal(("POST", "/api/v1/pipelineStatus/job-1/task-1"), (calls[1].Method, calls[1].Path));
        Assert.True(calls[0].At <= calls[1].At);
        Assert.Equal("PipelineComplete", calls[1].Body);

        using var job = JsonDocument.Parse(calls[0].Body);
        Assert.Equal("PipelineComplete", job.RootElement.GetProperty("Status").GetString());
        var file = Assert.Single(job.RootElement.GetProperty("OutputFiles").EnumerateArray());
        Assert.Equal("1.results.json", file.GetProperty("Name").GetString());
        Assert.Equal(Path.GetFullPath(OutputFolder), file.GetProperty("DirName").GetString());
        var results = job.RootElement.GetProperty("Results").GetString()!;
        Assert.Contains("image.width,", results, StringComparison.Ordinal);

        // The output file holds what the plugin measured: the real width of the real image.
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(OutputFolder, "1.results.json")));
        var measured = written.RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "image.width").GetProperty("value").GetInt64();
        Assert.Equal(WidthPattern().Match(results).Groups[1].Value, measured.ToString(CultureInfo.InvariantCulture));
        Assert.True(measured > 0);
    }

    [Fact]
    public async Task Worker_IsReadyOnceSubscribed_AndCountsEachRequest()
    {
        using var server = new CallbackServer();
        var port = Ports.Free();
        using var worker = new AiCsdWorker(_broker, "aicsd-ready", _root, healthPort: port);
        await worker.WaitServingAsync(_broker);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // The broker logs its SUBACK a moment before the worker has read it and turned ready; until then it says so.
        var (isReady, readyBody) = await ReadUntilAsync(
            async () =>
            {
                using var response = await http.GetAsync("/readyz");
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode || body.Contains("\"status\":\"starting\"", StringComparison.Ordinal), body);
                return (response.IsSuccessStatusCode, body);
            },
            r => r.IsSuccessStatusCode);
        Assert.True(isReady, readyBody);
        Assert.Contains("\"status\":\"ready\"", readyBody, StringComparison.Ordinal);
        Assert.Contains("mqtt-export/pipeline/params", readyBody, StringComparison.Ordinal);

        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-ready"));
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-ready"), worker);

        // The worker counts a request after its status callback returns, so the count may trail the
        // callback the test just saw by a moment; it must reach exactly one and not go past it.
        var live = await ReadUntilAsync(() => http.GetStringAsync("/healthz"), l => l.Contains("\"frames\":1,", StringComparison.Ordinal));
        Assert.Contains("\"frames\":1,", live, StringComparison.Ordinal);
        Assert.Contains("\"failures\":0", live, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequests_EachFailClearly_AndTheWorkerServesTheNextRequest()
    {
        using var server = new CallbackServer();
        using var worker = new AiCsdWorker(_broker, "aicsd-bad", _root);
        await worker.WaitServingAsync(_broker);
        var closedPort = Ports.Free();

        AiCsdWorker.Publish(_broker, "{\"InputFileLocation\": \"/tmp/files/input/1.tiff\", oops");
        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Path.Combine(_root, "..", "..", "etc", "passwd"), OutputFolder, server, "job-traversal"));
        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-unreachable", jobUpdate: new Uri($"http://127.0.0.1:{closedPort}/api/v1/job/pipeline/job-unreachable/task-1")));
        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-good"));
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-good"), worker);

        Assert.Equal(1, await worker.CountLogAsync("The request is not valid JSON"));

        var statuses = StatusesOf(server);
        Assert.Equal(["PipelineFailed"], statuses["job-traversal"]);
        var traversal = server.Requests.Single(r => r.Path == "/api/v1/job/pipeline/job-traversal/task-1");
        Assert.Contains("InputFileLocation", traversal.Body, StringComparison.Ordinal);
        Assert.Contains("outside the allowed roots", traversal.Body, StringComparison.Ordinal);

        // The job repository was unreachable, so the job cannot count as complete, and the log says why.
        Assert.Equal(["PipelineFailed"], statuses["job-unreachable"]);
        Assert.Equal(1, await worker.CountLogAsync($"AiCSD job update callback failed: PUT http://127.0.0.1:{closedPort}/api/v1/job/pipeline/job-unreachable/task-1"));

        Assert.Equal(["PipelineComplete"], statuses["job-good"]);
    }

    /// <summary>
    /// The issue's poison-message fault test: a request that kills its worker outright (SIGKILL from
    /// inside the plugin, as the OOM killer would) comes back to the restarted worker from its
    /// persistent session. It must not kill that one too: it is answered PipelineFailed without being
    /// run again, acknowledged, and the next good request completes on the same worker.
    /// </summary>
    [Fact]
    public async Task PoisonRequest_RedeliveredToTheRestartedWorker_IsAnsweredFailed_AndTheNextRequestCompletes()
    {
        using var server = new CallbackServer();
        var settings = new Dictionary<string, string?> { ["Triggers__AiCsd__CompletedFolder"] = Path.Combine(_root, "completed") };
        var poison = AiCsdWorker.Request(Input, OutputFolder, server, "job-poison", modelParams: new Dictionary<string, string> { ["die"] = "now" });
        int firstPid;
        using (var first = new AiCsdWorker(_broker, "aicsd-poison", _root, settings: settings))
        {
            await first.WaitServingAsync(_broker);
            firstPid = first.ProcessId;
            AiCsdWorker.Publish(_broker, poison);
            Assert.NotNull(await first.WaitForExitAsync(Patience));
            output.WriteLine($"first worker (pid {firstPid}) died on the poison request:\n{first.Log}");
        }

        Assert.Empty(server.Requests);

        // Restarted as a supervisor would, under the same client id: its session hands the poison back.
        using var restarted = new AiCsdWorker(_broker, "aicsd-poison", _root, settings: settings);
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-poison"), restarted);
        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-after"));
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-after"), restarted);
        output.WriteLine($"restarted worker log:\n{restarted.Log}");

        var statuses = StatusesOf(server);
        Assert.Equal(["PipelineFailed"], statuses["job-poison"]);
        Assert.Equal(["PipelineComplete"], statuses["job-after"]);
        var answer = server.Requests.Single(r => r.Path == "/api/v1/job/pipeline/job-poison/task-1").Body;
        Assert.Contains($"The worker stopped (killed or crashed) while processing this request (process {firstPid}", answer, StringComparison.Ordinal);
        Assert.Contains("it is not run again", answer, StringComparison.Ordinal);
        Assert.False(restarted.HasExited, restarted.Log);
        Assert.True(await restarted.CountLogAsync("(DUP True)") >= 1, restarted.Log);
        Assert.DoesNotContain("   at ", restarted.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_DeliveredTwice_IsProcessedOnce()
    {
        using var server = new CallbackServer();
        using var worker = new AiCsdWorker(_broker, "aicsd-twice", _root);
        await worker.WaitServingAsync(_broker);
        var request = AiCsdWorker.Request(Input, OutputFolder, server, "job-twice");

        AiCsdWorker.Publish(_broker, request);
        AiCsdWorker.Publish(_broker, request);
        AiCsdWorker.Publish(_broker, AiCsdWorker.Request(Input, OutputFolder, server, "job-after"));
        await WaitForAsync(server, () => StatusesOf(server).ContainsKey("job-after"), worker);

        Assert.Equal(["PipelineComplete"], StatusesOf(server)["job-twice"]);
        Assert.Single(server.Requests, r => r.Path == "/api/v1/job/pipeline/job-twice/task-1");
        Assert.Equal(1, await worker.CountLogAsync("was already completed"));
    }

    /// <summary>
    /// The issue's fault test: three worker processes share one subscription; one is killed (SIGKILL)
    /// while a request is half done (job updated, status not yet sent), then restarted under its
    /// client id as a supervisor would. Every request must end with exactly one pipeline status.
    /// </summary>
    [Fact]
    public async Task SharedSubscription_WorkerKilledMidRequest_EveryRequestIsCompletedExactlyOnce()
    {
        const int Requests = 60;
        const int RequestsBeforeKill = 45;
        const int Workers = 3;
        var victim = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var completed = 0;
        var heldPid = 0;
        var killDone = 0;

        // The first job update after 10 completions is held open: its worker is then mid-request, and is the one killed.
        // Its retries are held too, so a slow kill on a busy machine cannot let the request complete first.
        using var server = new CallbackServer((_, request) =>
        {
            if (request.Path.StartsWith("/api/v1/pipelineStatus/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref completed);
            }
            else if (ProcessIdPattern().Match(request.Body) is { Success: true } match)
            {
                var pid = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                if (Volatile.Read(ref completed) >= 10)
                {
                    Interlocked.CompareExchange(ref heldPid, pid, 0);
                }

                // Once the victim is dead, the restarted worker resends its answer, which still names the dead
                // process: that one must get through.
                if (Volatile.Read(ref heldPid) == pid && Volatile.Read(ref killDone) == 0)
                {
                    victim.TrySetResult(pid);
                    return (200, TimeSpan.FromMinutes(3));
                }
            }

            return (200, TimeSpan.Zero);
        });

        var workers = new List<AiCsdWorker>();
        try
        {
            for (var i = 0; i < Workers; i++)
            {
                workers.Add(new AiCsdWorker(_broker, $"aicsd-w{i}", _root, sharedGroup: "pipeline"));
            }

            foreach (var w in workers)
            {
                await w.WaitServingAsync(_broker);
            }

            // One input file per request, as AiCSD sends: concurrent workers must not write the same output file.
            void PublishRequests(int first, int count)
            {
                for (var i = first; i < first + count; i++)
                {
                    var input = Path.Combine(_root, "input", $"{i:D3}.jpg");
                    File.Copy(Input, input);
                    AiCsdWorker.Publish(_broker, AiCsdWorker.Request(input, OutputFolder, server, $"job-{i:D3}"));
                }
            }

            PublishRequests(0, RequestsBeforeKill);

            var victimPid = await victim.Task.WaitAsync(Patience);
            var killed = workers.Single(w => w.ProcessId == victimPid);
            var heldJob = server.Requests.Last(r => r.Body.Contains($"process.id,{victimPid}", StringComparison.Ordinal)).Path;
            var completedBeforeKill = Volatile.Read(ref completed);
            killed.KillHard();
            Volatile.Write(ref killDone, 1);
            output.WriteLine($"killed {killed.ClientId} (pid {victimPid}) holding {heldJob}, after {completedBeforeKill} completions");

            // While it is down, more requests arrive; the survivors take what the broker gives them.
            PublishRequests(RequestsBeforeKill, Requests - RequestsBeforeKill);
            var doneDuringOutage = await WaitUntilSettledAsync(server);
            var lateDoneDuringOutage = StatusesOf(server).Keys.Count(k => string.CompareOrdinal(k, $"job-{RequestsBeforeKill:D3}") >= 0);
            output.WriteLine($"while the worker was down: {doneDuringOutage} of {Requests} requests done, {lateDoneDuringOutage} of the {Requests - RequestsBeforeKill} published during the outage");

            // A supervisor restarts the worker under the same client id; its session gives back what it held.
            workers.Remove(killed);
            var restarted = new AiCsdWorker(_broker, killed.ClientId, _root, sharedGroup: "pipeline");
            workers.Add(restarted);
            var processedByDead = killed.CountLog("AiCSD request done");
            killed.Dispose();

            await WaitForAsync(server, () => StatusesOf(server).Count == Requests, workers.ToArray());

            // Give any duplicate time to arrive before counting.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var statuses = StatusesOf(server);
            var duplicates = statuses.Where(s => s.Value.Count != 1).Select(s => $"{s.Key}: {s.Value.Count}").ToList();
            var jobUpdates = server.Requests.Count(r => r.Path.StartsWith("/api/v1/job/pipeline/", StringComparison.Ordinal));
            var suppressed = workers.Sum(w => w.CountLog("was already completed"));
            output.WriteLine($"requests {Requests}, statuses {statuses.Values.Sum(v => v.Count)}, distinct {statuses.Count}, job updates {jobUpdates}, " +
                $"processed by the killed worker before the kill {processedByDead}, redelivered as DUP {workers.Sum(w => w.CountLog("(DUP True)"))}, duplicates suppressed by markers {suppressed}");
            output.WriteLine(string.Join("\n", workers.Select(w => $"{w.ClientId}: {w.CountLog("AiCSD request done")} done")));

            Assert.Empty(duplicates);
            Assert.Equal(Requests, statuses.Count);
            Assert.All(statuses.Values, s => Assert.Equal(["PipelineComplete"], s));

            // The held request came back to the restarted worker and finished there.
            Assert.True(await restarted.CountLogAsync("(DUP True)") >= 1, $"the restarted worker got no redelivery:\n{restarted.Log}");
            Assert.True(restarted.CountLog("session resumed: True") == 1, restarted.Log);
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }

    /// <summary>Reads every 50 ms until <paramref name="done"/> holds or <see cref="Patience"/> passes; returns the last reading, for the caller to assert on.</summary>
    private static async Task<T> ReadUntilAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var reading = default(T)!;
        await Poll.TryUntilAsync(async () => done(reading = await read()), Patience);
        return reading;
    }

    private static Dictionary<string, List<string>> StatusesOf(CallbackServer server) =>
        server.Requests
            .Where(r => r.Path.StartsWith("/api/v1/pipelineStatus/", StringComparison.Ordinal))
            .GroupBy(r => r.Path.Split('/')[4])
            .ToDictionary(g => g.Key, g => g.Select(r => r.Body).ToList());

    /// <summary>Waits until no pipeline status has arrived for a few seconds; returns how many requests have one.</summary>
    private static async Task<int> WaitUntilSettledAsync(CallbackServer server)
    {
        var last = -1;
        var quietSince = DateTime.UtcNow;

        // Still busy at the deadline only means fewer were done during the outage; the caller reports how many.
        await Poll.TryUntilAsync(
            () =>
            {
                var now = StatusesOf(server).Count;
                if (now != last)
                {
                    (last, quietSince) = (now, DateTime.UtcNow);
                    return false;
                }

                return DateTime.UtcNow - quietSince > TimeSpan.FromSeconds(5);
            },
            Patience,
            interval: TimeSpan.FromMilliseconds(100));
        return last;
    }

    private static Task WaitForAsync(CallbackServer server, Func<bool> done, params AiCsdWorker[] workers) => Poll.UntilAsync(
        done,
        Patience,
        () => $"the callbacks are in; callbacks so far: {server.Requests.Count}, requests with a status: {StatusesOf(server).Count}\n{string.Join("\n", workers.Select(w => $"--- {w.ClientId}\n{w.Log}"))}",
        interval: TimeSpan.FromMilliseconds(100));

    [GeneratedRegex(@"image\.width,(\d+)")]
    private static partial Regex WidthPattern();

    [GeneratedRegex(@"process\.id,(\d+)")]
    private static partial Regex ProcessIdPattern();
}
