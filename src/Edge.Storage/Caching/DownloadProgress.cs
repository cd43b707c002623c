using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Edge.Storage.Caching;

/// <summary>
/// Logs a long download's bytes, rate and ETA: at most once per interval, and at each tenth of the
/// size (but not more than once a second), so a slow link shows life without flooding the log.
/// </summary>
internal sealed partial class DownloadProgress
{
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly long? _total;
    private readonly long _startOffset;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastLog;
    private long _lastTenth;

    public DownloadProgress(ILogger logger, string name, long? total, long startOffset, TimeSpan interval)
    {
        _logger = logger;
        _name = name;
        _total = total;
        _startOffset = startOffset;
        _interval = interval;
        _lastTenth = total is > 0 ? startOffset * 10 / total.Value : 0;
    }

    public void Report(long bytes)
    {
        var now = _clock.Elapsed;
        var tenth = _total is > 0 ? bytes * 10 / _total.Value : 0;
        var due = now - _lastLog >= _interval || (tenth > _lastTenth && now - _lastLog >= TimeSpan.FromSeconds(1));
        if (!due || !_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        _lastLog = now;
        _lastTenth = tenth;
        var rate = Rate(bytes - _startOffset, now);
        var eta = _total is { } total && rate > 0 ? TimeSpan.FromSeconds((total - bytes) / rate) : (TimeSpan?)null;
        LogProgress(_logger, _name, Megabytes(bytes), _total is { } t ? Megabytes(t) : "?", _total is > 0 ? (int)(bytes * 100 / _total.Value) : 0, Megabytes((long)rate), eta is { } e ? e.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?");
    }

    public void Completed(long bytes)
    {
        var elapsed = _clock.Elapsed;
        LogCompleted(_logger, _name, Megabytes(bytes), Megabytes(bytes - _startOffset), elapsed.TotalSeconds, Megabytes((long)Rate(bytes - _startOffset, elapsed)));
    }

    private static double Rate(long bytes, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? bytes / elapsed.TotalSeconds : 0;

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetching {Name}: {Done} of {Total} MiB ({Percent}%), {Rate} MiB/s, ETA {Eta}")]
    private static partial void LogProgress(ILogger logger, string name, string done, string total, int percent, string rate, string eta);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Name}: {Size} MiB ({Transferred} MiB transferred) in {Seconds:F1} s, {Rate} MiB/s")]
    private static partial void LogCompleted(ILogger logger, string name, string size, string transferred, double seconds, string rate);
}
