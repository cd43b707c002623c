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
/// second, whatever became of the job update. Every failure (oversized, deep or malformed request,
/// path outside the roots or not a regular file, processing error, unreachable callback) ends as a
/// <c>PipelineFailed</c> report where its callbacks are known, and as one logged error without a
/// stack trace; nothing a request holds escapes as an exception, and the pipeline keeps serving.
/// The exception is a model that can never take frames (<see cref="FramesRefusedException"/>): it
/// escapes, so the worker stops with exit 3 and the request, unacknowledged, waits in its session for
/// a worker with a model that can.
/// </summary>
internal sealed partial class AiCsdPipeline(AiCsdProcessor processor, CallbackClient callbacks, AiCsdOptions options, ILogger logger)
{
    private readonly AiCsdPaths _paths = new(options.AllowedRoots, options.MaxInputBytes);

    /// <summary>Handles one request.</summary>
    /// <param name="payload">The request as it arrived.</param>
    /// <param name="reporting">Told the response just before the callbacks start: the processing is over.</param>
    /// <param name="cancellationToken">Stops the request (the worker is stopping); it then throws <see cref="OperationCanceledException"/>.</param>
    public async Task<AiCsdOutcome> HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, Action<AiCsdResponse>? reporting = null)
    {
        AiCsdRequest request;
        try
        {
            request = AiCsdRequest.Parse(payload.Span, options.MaxRequestBytes);
        }
        catch (AiCsdRequestException e)
        {
            LogRejected(logger, e.Message);
            return await ReportAsync(e.JobUpdateUrl, e.PipelineStatusUrl, AiCsdResponse.Failure(e.Message), e.Message, reporting, cancellationToken).ConfigureAwait(false);
        }

        AiCsdResponse response;
        string? error = null;
        try
        {
            var input = _paths.Input(request.InputFileLocation, nameof(AiCsdRequest.InputFileLocation));
            var output = _paths.OutputFolder(request.OutputFileFolder, nameof(AiCsdRequest.OutputFileFolder));
            var run = await processor(request, input, output, cancellationToken).ConfigureAwait(false);
            response = new AiCsdResponse(AiCsdResponse.Complete, run.QCFlags, [.. run.OutputFiles.Select(AiCsdOutputFile.For)], run.Results);
            LogProcessed(logger, AiCsdRequest.Preview(input, 300), run.OutputFiles.Count);
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
            error = $"Processing {AiCsdRequest.Preview(request.InputFileLocation, 300)} failed: {e.Message}";
            response = AiCsdResponse.Failure(error);
        }
        catch (Exception e) when (e is not FramesRefusedException && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
        {
            // An unreadable or undecodable input is the request's failure: its message says what, a stack trace would not.
            error = $"Processing {AiCsdRequest.Preview(request.InputFileLocation, 300)} failed: {e.Message}";
            LogProcessingFailed(logger, AiCsdRequest.Preview(request.InputFileLocation, 300), e.GetType().Name, e.Message);
            response = AiCsdResponse.Failure(error);
        }

        return await ReportAsync(request.JobUpdateUrl, request.PipelineStatusUrl, response, error, reporting, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Finishes a request that an earlier process took and died with, without running it again: one
    /// that died while processing is answered <c>PipelineFailed</c> (it may be what killed it, and would
    /// kill this one too); one that died while calling back gets the same answer sent again.
    /// </summary>
    public async Task<AiCsdOutcome> ResumeAsync(ReadOnlyMemory<byte> payload, AiCsdAttempt earlier, CancellationToken cancellationToken, Action<AiCsdResponse>? reporting = null)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var (jobUpdate, pipelineStatus) = AiCsdRequest.CallbacksOf(payload.Span);
        if (earlier.Response is { } answer)
        {
            LogResumed(logger, earlier.ProcessId, answer.Status);
            var error = answer.Status == AiCsdResponse.Complete ? null : answer.Results;
            return await ReportAsync(jobUpdate, pipelineStatus, answer, error, reporting, cancellationToken).ConfigureAwait(false);
        }

        var reason = $"The worker stopped (killed or crashed) while processing this request (process {earlier.ProcessId}, started on it at {earlier.StartedAt:u}); " +
            "it is not run again, so that a request that stops a worker cannot stop the next one.";
        LogRejected(logger, reason);
        return await ReportAsync(jobUpdate, pipelineStatus, AiCsdResponse.Failure(reason), reason, reporting, cancellationToken).ConfigureAwait(false);
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

        // Written beside and renamed over: a new file (O_EXCL) never follows a link planted under the
        // output's name, and the rename replaces such a link instead of writing where it points.
        var temporary = Path.Combine(output, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
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

            File.Move(temporary, file, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return new AiCsdRun([file], string.Join(";", collected.Measurements.Select(m => $"{m.Name},{m.Value}")));
    };

    private async Task<AiCsdOutcome> ReportAsync(Uri? jobUpdateUrl, Uri? pipelineStatusUrl, AiCsdResponse response, string? error, Action<AiCsdResponse>? reporting, CancellationToken cancellationToken)
    {
        reporting?.Invoke(response);
        var jobUpdated = false;
        if (jobUpdateUrl is not null)
        {
            var method = string.Equals(options.JobUpdateMethod, "POST", StringComparison.OrdinalIgnoreCase) ? HttpMethod.Post : HttpMethod.Put;
            if (await CallBackAsync("job update", method, jobUpdateUrl, response.ToJson(), "application/json", cancellationToken).ConfigureAwait(false) is { } failure)
            {
                error ??= $"The job update could not be delivered: {failure}";
            }
            else
            {
                jobUpdated = true;
            }
        }

        // A job whose results never reached the job repository has not completed, whatever ran.
        var final = jobUpdated ? response : response with { Status = AiCsdResponse.Failed };
        var statusReported = false;
        if (pipelineStatusUrl is not null)
        {
            var (body, type) = options.StatusBody == AiCsdStatusBody.Json
                ? (final.ToJson(), "application/json")
                : (Encoding.UTF8.GetBytes(final.Status), "text/plain");
            if (await CallBackAsync("pipeline status", HttpMethod.Post, pipelineStatusUrl, body, type, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                error ??= $"The pipeline status could not be delivered: {failure}";
            }
            else
            {
                statusReported = true;
            }
        }

        return new AiCsdOutcome(final, jobUpdated, statusReported, error);
    }

    /// <summary>One callback; null once delivered, else why not, already logged. Whatever goes wrong, the caller goes on to the next.</summary>
    private async Task<string?> CallBackAsync(string callback, HttpMethod method, Uri url, byte[] body, string contentType, CancellationToken cancellationToken)
    {
        try
        {
            await callbacks.SendAsync(method, url, body, contentType, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (CallbackException e)
        {
            LogCallbackFailed(logger, callback, e.Message);
            return e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = $"{method} {CallbackClient.Display(url)} failed: {e.Message}";
            LogCallbackFailed(logger, callback, reason);
            return reason;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD request failed: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "AiCSD processing of {Input} failed ({Kind}): {Reason}")]
    private static partial void LogProcessingFailed(ILogger logger, string input, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AiCSD request was interrupted in process {ProcessId} after it was processed; sending its answer ({Status}) again, without processing it again")]
    private static partial void LogResumed(ILogger logger, int processId, string status);

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
