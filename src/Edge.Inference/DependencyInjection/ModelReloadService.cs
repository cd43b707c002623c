using Edge.Plugin;
using Edge.Plugin.Hosting.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Inference;

/// <summary>How often the model reference is checked for a new version, bound from <c>Inference:Reload</c>.</summary>
public sealed class ModelReloadOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Inference:Reload";

    /// <summary>Time between checks (<c>Inference__Reload__Interval=00:05:00</c>); zero turns polling off. Default 5 minutes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Polls the model reference and swaps in each new verified version; a failed check keeps the current model.</summary>
internal sealed partial class ModelReloadService(
    ReloadableModel model,
    IOptions<InferenceOptions> inference,
    IOptions<ModelReloadOptions> reload,
    IEnumerable<IModelSource> sources,
    ILogger<ModelReloadService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = reload.Value.Interval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        var reference = ModelReference.Parse(inference.Value.Model!);
        var source = sources.FirstOrDefault(s => s.Schemes.Contains(reference.Scheme));
        if (source is null)
        {
            return;
        }

        LogPolling(logger, Redaction.Url(reference.Location), interval.TotalSeconds);
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var path = Path.GetFullPath(await source.GetLocalPathAsync(reference, stoppingToken).ConfigureAwait(false));
                var current = model.Source;
                if (string.Equals(path, current, StringComparison.Ordinal))
                {
                    continue;
                }

                // Loading takes as long as it takes, on this thread: frames keep running on the current model meanwhile.
                var options = inference.Value.ToModelOptions();
                options.Logger = logger;
                var next = OnnxModel.Load(path, options);
                try
                {
                    model.Swap(next);
                }
                catch
                {
                    next.Dispose();
                    throw;
                }

                LogSwapped(logger, current, path, next.Describe());
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(logger, Redaction.Url(reference.Location), e.Message, model.Source);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Checking {Reference} for new model versions every {Seconds} s")]
    private static partial void LogPolling(ILogger logger, string reference, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model swapped between frames: {Old} -> {New} ({Description})")]
    private static partial void LogSwapped(ILogger logger, string old, string @new, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking {Reference} for a new version failed ({Reason}); still running {Current}")]
    private static partial void LogCheckFailed(ILogger logger, string reference, string reason, string current);
}
