using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Secrets;
using System.Text.Json;

// JSON field names are AiCSD's wire contract: literals, so renaming a property cannot change the wire.
#pragma warning disable CA1507

namespace Edge.Plugin.AiCsd;

/// <summary>
/// A pipeline request from an Intel AiCSD gateway (published on <c>mqtt-export/pipeline/params</c>):
/// which file to process, where outputs go, the model parameters and the two callback URLs.
/// </summary>
/// <param name="InputFileLocation">The file to process.</param>
/// <param name="OutputFileFolder">Where output files go.</param>
/// <param name="ModelParams">Pipeline-specific parameters, as strings.</param>
/// <param name="JobUpdateUrl">The job repository's endpoint for the job's results.</param>
/// <param name="PipelineStatusUrl">The task launcher's endpoint for the pipeline's final status.</param>
/// <param name="GatewayIP">The gateway's address, if given.</param>
internal sealed record AiCsdRequest(
    string InputFileLocation,
    string OutputFileFolder,
    IReadOnlyDictionary<string, string> ModelParams,
    Uri JobUpdateUrl,
    Uri PipelineStatusUrl,
    string? GatewayIP)
{
    /// <summary>The largest request accepted: AiCSD sends paths and parameters, a few hundred bytes.</summary>
    public const int MaxBytes = 64 * 1024;

    private const int MaxDepth = 32;
    private const int MaxPreview = 120;

    /// <summary>Parses and checks a request.</summary>
    /// <exception cref="AiCsdRequestException">The JSON is malformed or a field is missing or wrong; the message names it.
    /// <see cref="AiCsdRequestException.JobUpdateUrl"/> and <see cref="AiCsdRequestException.PipelineStatusUrl"/> carry the callbacks when they could be read, so the failure can still be reported.</exception>
    public static AiCsdRequest Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            throw new AiCsdRequestException($"The request is {json.Length} bytes, over the {MaxBytes}-byte limit for a request (paths and parameters, not data).", null, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw new AiCsdRequestException($"The request is not valid JSON: {e.Message}", null, null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new AiCsdRequestException($"The request must be a JSON object; got {root.ValueKind}.", null, null);
            }

            var jobUpdate = OptionalUrl(root, "JobUpdateUrl");
            var pipelineStatus = OptionalUrl(root, "PipelineStatusUrl");
            var problems = new List<string>();
            var input = RequiredString(root, "InputFileLocation", problems);
            var output = RequiredString(root, "OutputFileFolder", problems);
            if (jobUpdate is null)
            {
                problems.Add(Describe(root, "JobUpdateUrl", "an absolute http or https URL"));
            }

            if (pipelineStatus is null)
            {
                problems.Add(Describe(root, "PipelineStatusUrl", "an absolute http or https URL"));
            }

            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("ModelParams", out var modelParams) && modelParams.ValueKind != JsonValueKind.Null)
            {
                if (modelParams.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"ModelParams must be an object of parameters; got {modelParams.ValueKind}");
                }
                else
                {
                    try
                    {
                        foreach (var p in modelParams.EnumerateObject())
                        {
                            parameters[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                        }
                    }
                    catch (InvalidOperationException)
                    {
                        problems.Add("ModelParams holds text that is not valid UTF-8");
                    }
                }
            }

            string? gateway = null;
            if (root.TryGetProperty("GatewayIP", out var gatewayIp) && gatewayIp.ValueKind == JsonValueKind.String)
            {
                gateway = Text(gatewayIp);
            }

            if (problems.Count > 0)
            {
                throw new AiCsdRequestException("The request is incomplete: " + string.Join("; ", problems) + ".", jobUpdate, pipelineStatus);
            }

            return new AiCsdRequest(input!, output!, parameters, jobUpdate!, pipelineStatus!, gateway);
        }
    }

    private static string? RequiredString(JsonElement root, string name, List<string> problems)
    {
        if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && Text(value) is { Length: > 0 } text)
        {
            return text;
        }

        problems.Add(Describe(root, name, "a non-empty string"));
        return null;
    }

    private static Uri? OptionalUrl(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && Uri.TryCreate(Text(value), UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : null;

    private static string Describe(JsonElement root, string name, string expected)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return $"{name} is missing";
        }

        string raw;
        try
        {
            raw = value.GetRawText();
        }
        catch (InvalidOperationException)
        {
            return $"{name} must be {expected}, and is not even valid UTF-8 text";
        }

        // A hostile request can put a megabyte in one field: the error, the log and the callback get a preview.
        // A URL that is not acceptable may still carry a token or user info; the preview hides them.
        return raw.Length <= MaxPreview ? $"{name} must be {expected}, not {Redaction.Text(raw)}" : $"{name} must be {expected}, not {Redaction.Text(raw[..MaxPreview])}... ({raw.Length} characters)";
    }

    /// <summary>The string, or null when its bytes are not valid UTF-8: a request's bad bytes are its own problem, not the worker's.</summary>
    private static string? Text(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>An AiCSD request could not be accepted. The message names the field and the problem.</summary>
internal sealed class AiCsdRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AiCsdRequestException(string message, Uri? jobUpdateUrl, Uri? pipelineStatusUrl)
        : base(message)
    {
        JobUpdateUrl = jobUpdateUrl;
        PipelineStatusUrl = pipelineStatusUrl;
    }

    /// <summary>Creates the exception.</summary>
    public AiCsdRequestException()
        : this("The AiCSD request is invalid.", null, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AiCsdRequestException(string message)
        : this(message, null, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AiCsdRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The job update URL, when the request had a usable one.</summary>
    public Uri? JobUpdateUrl { get; }

    /// <summary>The pipeline status URL, when the request had a usable one.</summary>
    public Uri? PipelineStatusUrl { get; }
}
