using System.Text.Json;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>
/// pywaggle's development run log: with <c>PYWAGGLE_LOG_DIR</c> set, every measurement is appended
/// to <c>data.ndjson</c> in that folder, one JSON object per line, flushed as it is written.
/// </summary>
internal sealed class RunLogPublisher : IMeasurementPublisher, IUploadTarget, IDisposable
{
    public const string DirectoryVariable = "PYWAGGLE_LOG_DIR";
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _writer;
    private readonly Lock _gate = new();

    public RunLogPublisher(string directory)
    {
        Directory.CreateDirectory(directory);
        FilePath = Path.Combine(directory, "data.ndjson");
        _file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
        _writer = new Utf8JsonWriter(_file);
    }

    public string Name => "run log";

    public string FilePath { get; }

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken) =>
        Write(WaggleMessage.From(measurement));

    /// <summary>Records an upload as pywaggle's run log does: an <c>upload</c> record whose value is the staged file's absolute path.</summary>
    public ValueTask PublishUploadAsync(StagedUpload upload, CancellationToken cancellationToken) =>
        Write(new WaggleMessage("upload", Path.GetFullPath(upload.DataPath), upload.TimestampNs, upload.Meta, "all"));

    private ValueTask Write(in WaggleMessage message)
    {
        lock (_gate)
        {
            MeasurementJson.WriteRunLogRecord(_writer, message);
            _writer.Flush();
            _writer.Reset();
            _file.WriteByte((byte)'\n');
            _file.Flush();
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _file.Dispose();
    }
}
