using Edge.Plugin.Hosting;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Spool;

namespace Edge.Plugin.AiCsd;

/// <summary>
/// Durable markers of AiCSD requests whose callbacks were delivered, one file per request, named
/// by a hash of its two callback URLs (which carry AiCSD's job and task ids). A worker killed after
/// its callbacks but before acknowledging the MQTT message gets that message again; the marker
/// tells it the request is done. Markers are written before the acknowledgement and made durable
/// (file fsync, rename, folder fsync), so a power loss cannot leave an acknowledged request unmarked.
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

    /// <summary>The request's key, or null when the payload has no usable callback URLs (nothing to report twice).</summary>
    public static string? KeyOf(ReadOnlySpan<byte> payload)
    {
        Uri? job;
        Uri? status;
        try
        {
            var request = AiCsdRequest.Parse(payload);
            (job, status) = (request.JobUpdateUrl, request.PipelineStatusUrl);
        }
        catch (AiCsdRequestException e)
        {
            (job, status) = (e.JobUpdateUrl, e.PipelineStatusUrl);
        }

        if (job is null && status is null)
        {
            return null;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{job}\n{status}"));
        return Convert.ToHexStringLower(hash);
    }

    public bool IsCompleted(string key) => File.Exists(PathOf(key));

    /// <summary>Records a request as completed; returns once the marker is on disk.</summary>
    public void Complete(string key, AiCsdOutcome outcome)
    {
        var final = PathOf(key);
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

    private string PathOf(string key) => Path.Combine(_folder, key + ".done");
}
