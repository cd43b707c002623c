using Edge.Plugin.Hosting;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Spool;

namespace Edge.Plugin.AiCsd;

/// <summary>
/// An earlier delivery of a request that did not finish: which process took it, when, how many
/// deliveries have started, and, once its processing was over, the answer it was sending.
/// </summary>
/// <param name="Number">Deliveries started, this one's included.</param>
/// <param name="ProcessId">The process that took it.</param>
/// <param name="ProcessStart">That process's start time (UTC ticks): a process id alone may belong to a newer process.</param>
/// <param name="StartedAt">When it was taken.</param>
/// <param name="Response">The answer being sent when it stopped; null while it was still processing.</param>
internal sealed record AiCsdAttempt(int Number, int ProcessId, long ProcessStart, DateTimeOffset StartedAt, AiCsdResponse? Response)
{
    /// <summary>Whether this process took it.</summary>
    public bool IsThisProcess => ProcessId == Environment.ProcessId && ProcessStart == AiCsdCompletions.ThisProcessStart;

    /// <summary>Whether the process that took it still runs (another worker on this host, serving a duplicate).</summary>
    public bool IsAlive
    {
        get
        {
            try
            {
                using var process = Process.GetProcessById(ProcessId);
                return !process.HasExited && Math.Abs(process.StartTime.ToUniversalTime().Ticks - ProcessStart) < TimeSpan.TicksPerSecond;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                return false;
            }
        }
    }
}

/// <summary>
/// Markers of AiCSD requests, one pair of files per request, named by a hash of its two callback
/// URLs (which carry AiCSD's job and task ids), or of the whole request when it has none.
/// <list type="bullet">
/// <item><c>.done</c>: its callbacks were delivered. A worker killed after its callbacks but before
/// acknowledging the MQTT message gets that message again; the marker tells it the request is done.
/// Written before the acknowledgement and made durable (file fsync, rename, folder fsync), so a power
/// loss cannot leave an acknowledged request unmarked.</item>
/// <item><c>.run</c>: a delivery is under way, written before anything of the request runs and
/// removed when it ends, however it ends, short of the process dying. One found on a redelivery
/// means a process died with the request: if it died processing it, the request may be what kills
/// workers (an input that runs the plugin out of memory), so it is answered <c>PipelineFailed</c>
/// instead of run again; if it died sending the answer, the same answer is sent again. A second death
/// ends it unanswered. Not fsynced: it guards against a request killing its process, whose writes the
/// kernel keeps; a power loss is no request's doing, and then the request simply runs again.</item>
/// </list>
/// </summary>
internal sealed class AiCsdCompletions
{
    private readonly string _folder;

    public AiCsdCompletions(string folder)
    {
        _folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(_folder);
    }

    public string Folder => _folder;

    /// <summary>This process's start time, as <see cref="AiCsdAttempt.ProcessStart"/> records it.</summary>
    internal static long ThisProcessStart { get; } = StartOf(Environment.ProcessId);

    /// <summary>
    /// The request's key: from its callback URLs, which identify AiCSD's task (so a redelivered copy
    /// has the same key), or from its bytes when it has none. Never throws, whatever the bytes.
    /// </summary>
    public static string KeyOf(ReadOnlySpan<byte> payload)
    {
        var (job, status) = AiCsdRequest.CallbacksOf(payload);
        var hash = job is null && status is null
            ? SHA256.HashData(payload)
            : SHA256.HashData(Encoding.UTF8.GetBytes($"{job}\n{status}"));
        return Convert.ToHexStringLower(hash);
    }

    public bool IsCompleted(string key) => File.Exists(PathOf(key, ".done"));

    /// <summary>Records a request as completed; returns once the marker is on disk.</summary>
    public void Complete(string key, AiCsdOutcome outcome)
    {
        var final = PathOf(key, ".done");
        var temporary = $"{final}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("Status", outcome.Response.Status);
                writer.WriteBoolean("JobUpdated", outcome.JobUpdated);
                writer.WriteBoolean("StatusReported", outcome.StatusReported);
                writer.WriteString("CompletedAt", DateTimeOffset.UtcNow);
                writer.WriteNumber("ProcessId", Environment.ProcessId);
                writer.WriteEndObject();
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, final, overwrite: true);
        DirectorySync.Flush(_folder);
    }

    /// <summary>
    /// What an earlier, unfinished delivery left; null when none did. A marker that cannot be read
    /// counts as a delivery that died processing: it was written before anything ran.
    /// </summary>
    public AiCsdAttempt? Unfinished(string key)
    {
        var path = PathOf(key, ".run");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            return new AiCsdAttempt(
                root.GetProperty("Number").GetInt32(),
                root.GetProperty("ProcessId").GetInt32(),
                root.GetProperty("ProcessStart").GetInt64(),
                root.GetProperty("StartedAt").GetDateTimeOffset(),
                root.TryGetProperty("Response", out var response) ? AiCsdResponse.FromJson(response) : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return new AiCsdAttempt(1, 0, 0, File.GetLastWriteTimeUtc(path), null);
        }
    }

    /// <summary>Records that this process takes the request, as delivery <paramref name="number"/>; <paramref name="response"/> once processing is over.</summary>
    public void Begin(string key, int number, DateTimeOffset startedAt, AiCsdResponse? response = null)
    {
        var final = PathOf(key, ".run");
        var temporary = $"{final}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using var writer = new Utf8JsonWriter(stream);
            writer.WriteStartObject();
            writer.WriteNumber("Number", number);
            writer.WriteNumber("ProcessId", Environment.ProcessId);
            writer.WriteNumber("ProcessStart", ThisProcessStart);
            writer.WriteString("StartedAt", startedAt);
            if (response is not null)
            {
                writer.WritePropertyName("Response");
                response.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        // A rename, so a process killed while writing leaves the old marker or the new one, never half of one.
        File.Move(temporary, final, overwrite: true);
    }

    /// <summary>Removes the in-progress marker: the delivery ended (done, failed or handed back) with its process alive.</summary>
    public void End(string key) => File.Delete(PathOf(key, ".run"));

    /// <summary>Removes markers older than <paramref name="retention"/> and temporary files a kill left behind.</summary>
    public int Prune(TimeSpan retention)
    {
        var cutoff = DateTime.UtcNow - retention;
        var removed = 0;
        foreach (var file in new DirectoryInfo(_folder).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc < cutoff || (file.Name.EndsWith(".tmp", StringComparison.Ordinal) && file.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-10)))
            {
                try
                {
                    file.Delete();
                    removed++;
                }
                catch (IOException)
                {
                    // Another worker pruned it first.
                }
            }
        }

        return removed;
    }

    private static long StartOf(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return 0;
        }
    }

    private string PathOf(string key, string extension) => Path.Combine(_folder, key + extension);
}
