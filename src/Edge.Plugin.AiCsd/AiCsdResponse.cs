using Edge.Plugin.Hosting;
using System.Text.Json;

// JSON field names are AiCSD's wire contract: literals, so renaming a property cannot change the wire.
#pragma warning disable CA1507

namespace Edge.Plugin.AiCsd;

/// <summary>One output file, as AiCSD lists it in a job update.</summary>
/// <param name="DirName">The folder holding the file.</param>
/// <param name="Name">The file name with extension.</param>
/// <param name="Extension">The extension without its dot.</param>
/// <param name="Status">The file's status; may be empty.</param>
/// <param name="ErrorDetails">What went wrong with it; may be empty.</param>
/// <param name="Owner">Its current owner; may be empty.</param>
internal sealed record AiCsdOutputFile(string DirName, string Name, string Extension, string Status = "", string ErrorDetails = "", string Owner = "")
{
    /// <summary>Describes a file on disk.</summary>
    public static AiCsdOutputFile For(string path) =>
        new(Path.GetDirectoryName(Path.GetFullPath(path)) ?? string.Empty, Path.GetFileName(path), Path.GetExtension(path).TrimStart('.'));
}

/// <summary>A pipeline's answer in AiCSD's shape: <c>Status</c>, <c>QCFlags</c>, <c>OutputFiles</c>, <c>Results</c>.</summary>
/// <param name="Status"><see cref="Complete"/> or <see cref="Failed"/>.</param>
/// <param name="QCFlags">Quality-control flags; may be empty.</param>
/// <param name="OutputFiles">The files written.</param>
/// <param name="Results">A results string for the AiCSD UI, or the reason for a failure.</param>
internal sealed record AiCsdResponse(string Status, string QCFlags, IReadOnlyList<AiCsdOutputFile> OutputFiles, string Results)
{
    /// <summary>The status of a pipeline run that succeeded.</summary>
    public const string Complete = "PipelineComplete";

    /// <summary>The status of a pipeline run that failed.</summary>
    public const string Failed = "PipelineFailed";

    /// <summary>A failure with its reason in <see cref="Results"/>.</summary>
    public static AiCsdResponse Failure(string reason) => new(Failed, string.Empty, [], reason);

    /// <summary>The response as AiCSD's job repository takes it.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads back what <see cref="WriteTo"/> wrote; null when <paramref name="json"/> is not such a response.</summary>
    public static AiCsdResponse? FromJson(JsonElement json)
    {
        try
        {
            if (json.ValueKind != JsonValueKind.Object
                || json.GetProperty("Status").GetString() is not { } status
                || json.GetProperty("Results").GetString() is not { } results)
            {
                return null;
            }

            var files = json.GetProperty("OutputFiles").EnumerateArray().Select(f => new AiCsdOutputFile(
                f.GetProperty("DirName").GetString() ?? string.Empty,
                f.GetProperty("Name").GetString() ?? string.Empty,
                f.GetProperty("Extension").GetString() ?? string.Empty,
                f.GetProperty("Status").GetString() ?? string.Empty,
                f.GetProperty("ErrorDetails").GetString() ?? string.Empty,
                f.GetProperty("Owner").GetString() ?? string.Empty)).ToList();
            return new AiCsdResponse(status, json.GetProperty("QCFlags").GetString() ?? string.Empty, files, results);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Writes the response as one JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("Status", Status);
        writer.WriteString("QCFlags", QCFlags);
        writer.WriteStartArray("OutputFiles");
        foreach (var file in OutputFiles)
        {
            writer.WriteStartObject();
            writer.WriteString("DirName", file.DirName);
            writer.WriteString("Name", file.Name);
            writer.WriteString("Extension", file.Extension);
            writer.WriteString("Status", file.Status);
            writer.WriteString("ErrorDetails", file.ErrorDetails);
            writer.WriteString("Owner", file.Owner);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("Results", Results);
        writer.WriteEndObject();
    }
}
