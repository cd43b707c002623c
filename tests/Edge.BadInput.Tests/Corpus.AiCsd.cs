using System.Globalization;
using System.Text;
using System.Text.Json;
using Edge.Testing;

namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    /// <summary>
    /// AiCSD requests, each published to a worker of its own on a broker of its own: the worker must
    /// answer it (logged once, PipelineFailed where its callbacks are known), keep serving and stop
    /// cleanly on SIGTERM. A worker that stops by itself crashed, whatever its exit code.
    /// </summary>
    private IEnumerable<BadInputCase> AiCsdRequests(Server server)
    {
        var root = Directory.CreateDirectory(Path.Combine(Folder, "aicsd")).FullName;
        var input = Path.Combine(root, "in.jpg");
        File.Copy(GoodJpeg, input);
        var output = Directory.CreateDirectory(Path.Combine(root, "out")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(Folder, "outside-the-root")).FullName;
        File.Copy(GoodJpeg, Path.Combine(outside, "secret.jpg"));
        Directory.CreateSymbolicLink(Path.Combine(root, "linked"), outside);
        File.WriteAllBytes(Path.Combine(root, "corrupt.jpg"), File.ReadAllBytes(GoodJpeg)[..200]);
        var fifo = Path.Combine(root, "fifo.jpg");
        Tool.Run("mkfifo", [fifo]);
        var job = server.Url("job");
        var status = server.Url("status");

        string Request(Action<Dictionary<string, object?>> change)
        {
            var fields = new Dictionary<string, object?>
            {
                ["InputFileLocation"] = input,
                ["OutputFileFolder"] = output,
                ["ModelParams"] = new Dictionary<string, string> { ["Brightness"] = "0" },
                ["JobUpdateUrl"] = job,
                ["PipelineStatusUrl"] = status,
                ["GatewayIP"] = "127.0.0.1",
            };
            change(fields);
            return JsonSerializer.Serialize(fields);
        }

        (string Name, string Field, Action<Dictionary<string, object?>> Change)[] wrong =
        [
            ("input-missing", "InputFileLocation", r => r.Remove("InputFileLocation")),
            ("input-number", "InputFileLocation", r => r["InputFileLocation"] = 5),
            ("input-empty", "InputFileLocation", r => r["InputFileLocation"] = ""),
            ("input-relative", "InputFileLocation", r => r["InputFileLocation"] = "in.jpg"),
            ("input-outside-root", "InputFileLocation", r => r["InputFileLocation"] = "/etc/passwd"),
            ("input-dot-dot-escape", "InputFileLocation", r => r["InputFileLocation"] = Path.Combine(root, "..", "outside-the-root", "secret.jpg")),
            ("input-through-symlinked-folder", "InputFileLocation", r => r["InputFileLocation"] = Path.Combine(root, "linked", "secret.jpg")),
            ("input-fifo", "InputFileLocation", r => r["InputFileLocation"] = fifo),
            ("input-folder", "InputFileLocation", r => r["InputFileLocation"] = output),
            ("input-missing-file", "InputFileLocation", r => r["InputFileLocation"] = Path.Combine(root, "nothing.jpg")),
            ("input-corrupt-image", "corrupt.jpg", r => r["InputFileLocation"] = Path.Combine(root, "corrupt.jpg")),
            ("input-10k-path", "InputFileLocation", r => r["InputFileLocation"] = Path.Combine(root, new string('a', 10_000) + ".jpg")),
            ("output-missing", "OutputFileFolder", r => r.Remove("OutputFileFolder")),
            ("output-outside-root", "OutputFileFolder", r => r["OutputFileFolder"] = "/etc"),
            ("output-through-symlinked-folder", "OutputFileFolder", r => r["OutputFileFolder"] = Path.Combine(root, "linked")),
            ("output-a-file", "OutputFileFolder", r => r["OutputFileFolder"] = input),
            ("output-list", "OutputFileFolder", r => r["OutputFileFolder"] = new[] { output }),
            ("model-params-string", "ModelParams", r => r["ModelParams"] = "Brightness=0"),
            ("model-params-huge-array", "ModelParams", r => r["ModelParams"] = Enumerable.Range(0, 20_000).ToArray()),
            ("job-update-not-a-url", "JobUpdateUrl", r => r["JobUpdateUrl"] = "not a url"),
            ("job-update-ftp", "JobUpdateUrl", r => r["JobUpdateUrl"] = "ftp://127.0.0.1/job"),
            ("job-update-refused", "127.0.0.1:1", r => r["JobUpdateUrl"] = "http://127.0.0.1:1/job"),
            ("job-update-redirects-to-file", "JobUpdateUrl", r => r["JobUpdateUrl"] = server.Url("to-file.jpg")),
            ("job-update-redirect-loop", "JobUpdateUrl", r => r["JobUpdateUrl"] = server.Url("loop.jpg")),
            ("status-missing", "PipelineStatusUrl", r => r.Remove("PipelineStatusUrl")),
            ("status-number", "PipelineStatusUrl", r => r["PipelineStatusUrl"] = 7),
        ];
        foreach (var (name, field, change) in wrong)
        {
            yield return AiCsd(name, Encoding.UTF8.GetBytes(Request(change)), root, field);
        }

        var good = Request(_ => { });
        (string Name, byte[] Bytes)[] unreadable =
        [
            ("not-json", "hello"u8.ToArray()),
            ("empty", []),
            ("cut-in-half", Encoding.UTF8.GetBytes(good[..(good.Length / 2)])),
            ("a-list", "[1, 2]"u8.ToArray()),
            ("null", "null"u8.ToArray()),
            ("a-string", "\"InputFileLocation\""u8.ToArray()),
            ("not-utf8", [.. Encoding.UTF8.GetBytes(good[..20]), 0xC3, 0x28, .. Encoding.UTF8.GetBytes(good[20..])]),
            ("nested-past-the-limit", Encoding.UTF8.GetBytes("{\"ModelParams\":" + new string('[', 5000) + new string(']', 5000) + "}")),
            ("five-megabytes", Encoding.UTF8.GetBytes(good[..^1] + ",\"Pad\":\"" + new string('x', 5_000_000) + "\"}")),
            ("noise", Noise(2048)),
        ];
        foreach (var (name, bytes) in unreadable)
        {
            yield return AiCsd(name, bytes, root, "request");
        }
    }

    private static BadInputCase AiCsd(string name, byte[] request, string root, string named) =>
        new("aicsd", name, timeout => ServeOneAsync(request, root, timeout).GetAwaiter().GetResult(), [0, Failed], [named]);

    private static async Task<Observation> ServeOneAsync(byte[] request, string root, TimeSpan timeout)
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var clientId = $"bad-input-{Guid.NewGuid():N}";
        using var worker = PluginProcess.Start(["worker", "-mode", "aicsd"], new Dictionary<string, string?>
        {
            ["Triggers__AiCsd__Server"] = "127.0.0.1",
            ["Triggers__AiCsd__Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Triggers__AiCsd__ClientId"] = clientId,
            ["Triggers__AiCsd__AllowedRoots__0"] = root,
            ["Triggers__AiCsd__Callback__MaxAttempts"] = "2",
            ["Triggers__AiCsd__Callback__InitialBackoff"] = "00:00:00.050",
            ["Triggers__AiCsd__Callback__MaxBackoff"] = "00:00:00.200",
            ["Triggers__AiCsd__Callback__AttemptTimeout"] = "00:00:05",
        });
        try
        {
            await broker.WaitForLogAsync($"Sending SUBACK to {clientId}", timeout);
            // An empty payload is sent as MQTT's zero-length message (-n); mosquitto_pub refuses it on stdin.
            string[] payload = request.Length == 0 ? ["-n"] : ["-s"];
            var published = Tool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", broker.Port.ToString(CultureInfo.InvariantCulture), "-q", "1", "-t", "mqtt-export/pipeline/params", .. payload], standardInput: request.Length == 0 ? null : request);
            if (published.ExitCode != 0)
            {
                throw new InvalidOperationException($"mosquitto_pub failed: {published}");
            }

            // Answered: a request is logged once as done or failed, whatever was wrong with it.
            await Poll.UntilAsync(() => worker.HasLogged("AiCSD request") || worker.HasExited, timeout, () => "the worker answers the request");
        }
        catch (TimeoutException)
        {
            return Observation.Hung(worker.Log);
        }

        if (worker.HasExited)
        {
            return Observation.Died(await worker.WaitForExitAsync(), worker.Log);
        }

        worker.Terminate();
        try
        {
            return new Observation(await worker.WaitForExitAsync(timeout), worker.Log);
        }
        catch (TimeoutException)
        {
            return Observation.Hung(worker.Log);
        }
    }
}
