using Edge.Plugin.Hosting;
using System.Text;
using System.Text.Json;
using Edge.Plugin.Hosting.Inputs;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Rest;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.AiCsd;

/// <summary>What processing one AiCSD input produced.</summary>
/// <param name="OutputFiles">The files written, inside the output folder.</param>
/// <param name="Results">The results string shown in the AiCSD UI.</param>
/// <param name="QCFlags">Quality-control flags; may be empty.</param>
internal sealed record AiCsdRun(IReadOnlyList<string> OutputFiles, string Results, string QCFlags = "");

/// <summary>How one request ended, and whether each callback got through.</summary>
/// <param name="Response">What was reported (or would have been, had the callbacks been reachable).</param>
/// <param name="JobUpdated">The job update callback was accepted.</param>
/// <param name="StatusReported">The pipeline status callback was accepted.</param>
/// <param name="Error">Why the request failed, if it did.</param>
internal sealed record AiCsdOutcome(AiCsdResponse Response, bool JobUpdated, bool StatusReported, string? Error);

/// <summary>Processes one checked input: reads <paramref name="inputPath"/>, writes into <paramref name="outputFolder"/>.</summary>
internal delegate ValueTask<AiCsdRun> AiCsdProcessor(AiCsdRequest request, string inputPath, string outputFolder, CancellationToken cancellationToken);

/// <summary>
/// AiCSD's request-driven pipeline, independent of how requests arrive (MQTT in production, a
/// direct call in tests): parse and check the request, keep its paths inside the allowed roots,
/// process the input, then call back in AiCSD's order: the job update first, the pipeline status
/// second. Every failure (malformed request, path outside the roots, processing error,
/// unreachable callback) ends as a <c>PipelineFailed</c> report where one can be delivered, and
/// as a logged error; the pipeline itself keeps serving. The exception is a model that can never take
/// frames (<see cref="FramesRefusedException"/>): it escapes, so the worker stops with exit 3 and the
/// request, unacknowledged, waits in its session for a worker with a model that can.
/// </summary>
internal sealed partial class AiCsdPipeline(AiCsdProcessor processor, CallbackClient callbacks, AiCsdOptions options, ILogger logger)
{
    private readonly string[] _roots = [.. options.AllowedRoots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))];

    public async Task<AiCsdOutcome> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        AiCsdRequest request;
        try
        {
            request = AiCsdRequest.Parse(payload.Span);
        }
        catch (AiCsdRequestException e)
        {
            LogRejected(logger, e.Message);
            return await ReportAsync(e.JobUpdateUrl, e.PipelineStatusUrl, AiCsdResponse.Failure(e.Message), e.Message, cancellationToken).ConfigureAwait(false);
        }

        AiCsdResponse response;
        string? error = null;
        try
        {
            var input = Confine(request.InputFileLocation, nameof(AiCsdRequest.InputFileLocation));
            var output = Confine(request.OutputFileFolder, nameof(AiCsdRequest.OutputFileFolder));
            if (!File.Exists(input))
            {
                throw new AiCsdRequestException($"InputFileLocation {input} does not exist.");
            }

            Directory.CreateDirectory(output);
            var run = await processor(request, input, output, cancellationToken).ConfigureAwait(false);
            response = new AiCsdResponse(AiCsdResponse.Complete, run.QCFlags, [.. run.OutputFiles.Select(AiCsdOutputFile.For)], run.Results);
            LogProcessed(logger, input, run.OutputFiles.Count);
        }
        catch (AiCsdRequestException e)
        {
            error = e.Message;
            LogRejected(logger, e.Message);
            response = AiCsdResponse.Failure(e.Message);
        }
        catch (AiCsdProcessingException e)
        {
            // The frame pipeline logged the failure with its detail.
            error = $"Processing {request.InputFileLocation} failed: {e.Message}";
            response = AiCsdResponse.Failure(error);
        }
        catch (Exception e) when (e is not FramesRefusedException && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
        {
            error = $"Processing {request.InputFileLocation} failed: {e.Message}";
            LogProcessingFailed(logger, e, request.InputFileLocation, e.Message);
            response = AiCsdResponse.Failure(error);
        }

        return await ReportAsync(request.JobUpdateUrl, request.PipelineStatusUrl, response, error, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A processor that runs a frame plugin on the input image through the host's frame pipeline (the
    /// same Inputs settings, model size and failure accounting as a stream) and writes what it published as JSON.
    /// </summary>
    public static AiCsdProcessor ForPlugin(FramePlugin plugin, FramePipeline frames, RunMode mode, ILogger logger, int significantDigits = 0) => async (request, input, output, cancellationToken) =>
    {
        var collected = new MeasurementCollector();
        var context = new PluginContext(mode, [collected], logger) { Parameters = request.ModelParams, SignificantDigits = significantDigits };
        var source = frames.Open(input);
        await using (source.ConfigureAwait(false))
        {
            var frame = await source.ReadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"{input} holds no image.");
            if (await frames.ProcessAsync(plugin, frame, context, cancellationToken, reportHealth: false).ConfigureAwait(false) is { } error)
            {
                throw new AiCsdProcessingException(error);
            }
        }

        var file = Path.Combine(output, Path.GetFileNameWithoutExtension(input) + ".results.json");
        var stream = File.Create(file);
        await using (stream.ConfigureAwait(false))
        {
            var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            await using (writer.ConfigureAwait(false))
            {
                writer.WriteStartArray();
                foreach (var m in collected.Measurements)
                {
                    MeasurementJson.WriteRunLogRecord(writer, m);
                }

                writer.WriteEndArray();
            }
        }

        return new AiCsdRun([file], string.Join(";", collected.Measurements.Select(m => $"{m.Name},{m.Value}")));
    };

    private string Confine(string path, string field)
    {
        var full = Path.GetFullPath(path);

        // A link inside a root may point anywhere; judge where it leads, not where it sits.
        FileSystemInfo entry = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        var real = entry.LinkTarget is not null ? entry.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
        if (!_roots.Any(root => real == root || real.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            throw new AiCsdRequestException($"{field} '{path}' is outside the allowed roots ({string.Join(", ", _roots)}); set {AiCsdOptions.SectionName}:AllowedRoots to allow it.");
        }

        return real;
    }

    private async Task<AiCsdOutcome> ReportAsync(Uri? jobUpdateUrl, Uri? pipelineStatusUrl, AiCsdResponse response, string? error, CancellationToken cancellationToken)
    {
        var jobUpdated = false;
        if (jobUpdateUrl is not null)
        {
            try
            {
                var method = string.Equals(options.JobUpdateMethod, "POST", StringComparison.OrdinalIgnoreCase) ? HttpMethod.Post : HttpMethod.Put;
                await callbacks.SendAsync(method, jobUpdateUrl, response.ToJson(), "application/json", cancellationToken).ConfigureAwait(false);
                jobUpdated = true;
            }
            catch (CallbackException e)
            {
                error ??= $"The job update could not be delivered: {e.Message}";
                LogCallbackFailed(logger, "job update", e.Message);
            }
        }

        // A job whose results never reached the job repository has not completed, whatever ran.
        var final = jobUpdated ? response : response with { Status = AiCsdResponse.Failed };
        var statusReported = false;
        if (pipelineStatusUrl is not null)
        {
            try
            {
                var (body, type) = options.StatusBody == AiCsdStatusBody.Json
                    ? (final.ToJson(), "application/json")
                    : (Encoding.UTF8.GetBytes(final.Status), "text/plain");
                await callbacks.SendAsync(HttpMethod.Post, pipelineStatusUrl, body, type, cancellationToken).ConfigureAwait(false);
                statusReported = true;
            }
            catch (CallbackException e)
            {
                error ??= $"The pipeline status could not be delivered: {e.Message}";
                LogCallbackFailed(logger, "pipeline status", e.Message);
            }
        }

        return new AiCsdOutcome(final, jobUpdated, statusReported, error);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD request failed: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD processing of {Input} failed: {Reason}")]
    private static partial void LogProcessingFailed(ILogger logger, Exception error, string input, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "AiCSD processed {Input}: {Count} output file(s)")]
    private static partial void LogProcessed(ILogger logger, string input, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD {Callback} callback failed: {Reason}")]
    private static partial void LogCallbackFailed(ILogger logger, string callback, string reason);
}

/// <summary>The plugin failed on the request's input; the pipeline has logged why, with the frame's source.</summary>
internal sealed class AiCsdProcessingException(string message) : Exception(message);

/// <summary>Keeps what a plugin publishes while it handles one request.</summary>
internal sealed class MeasurementCollector : IMeasurementPublisher
{
    private readonly List<Measurement> _measurements = [];

    public string Name => "request results";

    public IReadOnlyList<Measurement> Measurements => _measurements;

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        lock (_measurements)
        {
            _measurements.Add(measurement);
        }

        return ValueTask.CompletedTask;
    }
}
