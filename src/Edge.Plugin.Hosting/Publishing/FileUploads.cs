using System.Security.Cryptography;
using System.Text.Json;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>A file staged for upload the way pywaggle stages it: <c>&lt;root&gt;/&lt;ts&gt;-&lt;sha1&gt;/data</c> and <c>meta</c>.</summary>
/// <param name="FolderName">The staging folder's name, <c>&lt;timestamp&gt;-&lt;sha1&gt;</c>: the value of the <c>upload</c> message.</param>
/// <param name="FolderPath">The staging folder.</param>
/// <param name="Sha1">The file's SHA-1, lower-case hex.</param>
/// <param name="TimestampNs">The upload's timestamp, nanoseconds since the Unix epoch.</param>
/// <param name="Meta">The labels, with <c>filename</c> added.</param>
public sealed record StagedUpload(string FolderName, string FolderPath, string Sha1, long TimestampNs, IReadOnlyDictionary<string, string> Meta)
{
    /// <summary>The staged copy of the file.</summary>
    public string DataPath => Path.Combine(FolderPath, "data");
}

/// <summary>A publisher that also announces uploads (Waggle's <c>upload</c> message, the run log's record).</summary>
internal interface IUploadTarget
{
    ValueTask PublishUploadAsync(StagedUpload upload, CancellationToken cancellationToken);
}

/// <summary>
/// Uploads files as pywaggle's <c>upload_file</c> does: copies the file into a staging folder named
/// after its timestamp and SHA-1, writes a <c>meta</c> JSON beside it, then publishes an
/// <c>upload</c> message naming the folder. On a node the staging root is
/// <c>WAGGLE_PLUGIN_UPLOAD_PATH</c> (<c>/run/waggle/uploads</c>), which the node's uploader ships;
/// off a node it is <c>$PYWAGGLE_LOG_DIR/uploads</c>, so a plugin's uploads can be tested on a laptop.
/// Take it in a plugin's constructor.
/// </summary>
public sealed class FileUploads
{
    /// <summary>The environment variable that names the staging root on a node.</summary>
    public const string UploadPathVariable = "WAGGLE_PLUGIN_UPLOAD_PATH";

    private readonly IReadOnlyList<IMeasurementPublisher> _publishers;

    internal FileUploads(string root, IEnumerable<IMeasurementPublisher> publishers)
    {
        Root = root;
        _publishers = [.. publishers];
    }

    /// <summary>The staging root.</summary>
    public string Root { get; }

    internal static string DefaultRoot(Func<string, string?> environment) =>
        environment(UploadPathVariable) is { Length: > 0 } path ? path
        : environment(RunLogPublisher.DirectoryVariable) is { Length: > 0 } log ? Path.Combine(log, "uploads")
        : "/run/waggle/uploads";

    /// <summary>
    /// Stages a file and announces it. As in pywaggle, the original is deleted afterwards unless
    /// <paramref name="keep"/> is true; the staged copy stays until the node's uploader takes it.
    /// </summary>
    /// <param name="path">The file to upload.</param>
    /// <param name="meta">Labels for the upload; <c>filename</c> is added.</param>
    /// <param name="timestampNs">When the file's content was captured; default now.</param>
    /// <param name="keep">Keep the original file.</param>
    /// <param name="cancellationToken">Cancels the copy and the announcement.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public async ValueTask<StagedUpload> UploadAsync(string path, IReadOnlyDictionary<string, string>? meta = null, long? timestampNs = null, bool keep = false, CancellationToken cancellationToken = default)
    {
        // Taken before any work, as pywaggle does, so it says when the file was made, not when it was copied.
        var timestamp = timestampNs ?? Clock.NowNs();
        Measurement.ValidateTimestamp(timestamp);
        var upload = await StageAsync(Root, path, meta, timestamp, cancellationToken).ConfigureAwait(false);
        foreach (var target in _publishers.OfType<IUploadTarget>())
        {
            await target.PublishUploadAsync(upload, cancellationToken).ConfigureAwait(false);
        }

        if (!keep)
        {
            File.Delete(path);
        }

        return upload;
    }

    internal static async Task<StagedUpload> StageAsync(string root, string path, IReadOnlyDictionary<string, string>? meta, long timestampNs, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Cannot upload {path}: no such file.", path);
        }

        string sha1;
        var source = File.OpenRead(path);
        await using (source.ConfigureAwait(false))
        {
#pragma warning disable CA5350 // pywaggle names upload folders by SHA-1; this is an identifier, not a security check.
            sha1 = Convert.ToHexStringLower(await SHA1.HashDataAsync(source, cancellationToken).ConfigureAwait(false));
#pragma warning restore CA5350
        }

        var labels = new Dictionary<string, string>(meta ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["filename"] = Path.GetFileName(path),
        };
        var name = $"{timestampNs}-{sha1}";
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);

        // A copy, not a move: the staging root is often a different volume.
        File.Copy(path, Path.Combine(folder, "data"), overwrite: true);
        var metaFile = File.Create(Path.Combine(folder, "meta"));
        await using (metaFile.ConfigureAwait(false))
        {
            var writer = new Utf8JsonWriter(metaFile);
            await using var writerScope = writer.ConfigureAwait(false);
            writer.WriteStartObject();
            writer.WriteStartObject("labels");
            foreach (var key in labels.Keys.Order(StringComparer.Ordinal))
            {
                writer.WriteString(key, labels[key]);
            }

            writer.WriteEndObject();
            writer.WriteString("shasum", sha1);
            writer.WriteNumber("timestamp", timestampNs);
            writer.WriteEndObject();
        }

        return new StagedUpload(name, folder, sha1, timestampNs, labels);
    }
}
