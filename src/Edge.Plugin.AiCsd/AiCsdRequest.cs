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
    /// <summary>
    /// How deep containers may nest in a request. AiCSD's requests are two deep (the request, its
    /// ModelParams); the limit leaves room for structured parameters and keeps a request of nothing
    /// but brackets from costing more than its size.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>The default of <see cref="AiCsdOptions.MaxRequestBytes"/>: AiCSD's requests are a few hundred bytes.</summary>
    public const int DefaultMaxBytes = 64 * 1024;

    /// <summary>The longest path a request may name: Linux's PATH_MAX.</summary>
    public const int MaxPathLength = 4096;

    // How much of a value from a request a message repeats: enough to recognise it, never the whole of a huge one.
    private const int PreviewChars = 120;

    private static readonly JsonReaderOptions ScanOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,

        // The scan measures depth itself, so that a deep request is named as such rather than as malformed.
        MaxDepth = 1_000_000,
    };

    /// <summary>Parses and checks a request.</summary>
    /// <param name="json">The request as it arrived.</param>
    /// <param name="maxBytes">The largest request accepted (<see cref="AiCsdOptions.MaxRequestBytes"/>).</param>
    /// <exception cref="AiCsdRequestException">The request is too large, too deep, not JSON, or a field is missing or wrong; the message names it
    /// and repeats no more than the start of any value. <see cref="AiCsdRequestException.JobUpdateUrl"/> and <see cref="AiCsdRequestException.PipelineStatusUrl"/>
    /// carry the callbacks when they could be read, so the failure can still be reported. Nothing else is thrown, whatever the bytes.</exception>
    public static AiCsdRequest Parse(ReadOnlySpan<byte> json, int maxBytes = DefaultMaxBytes)
    {
        if (json.Length > maxBytes)
        {
            // Not even scanned for its callbacks: reading what is over the limit is what the limit prevents.
            throw new AiCsdRequestException($"The request is {json.Length} bytes, over the {maxBytes}-byte limit for a request (paths and parameters, not data; {AiCsdOptions.SectionName}:MaxRequestBytes).", null, null);
        }

        var scan = Scan(json);
        var (jobUpdate, pipelineStatus) = (scan.JobUpdateUrl, scan.PipelineStatusUrl);
        if (scan.Depth > MaxDepth)
        {
            var under = scan.DeepestUnder is { } field ? $" under {field}" : string.Empty;
            throw new AiCsdRequestException($"The request is not valid JSON for AiCSD: it nests {scan.Depth} levels deep{under}, past the maximum depth of {MaxDepth} (an AiCSD request has 2).", jobUpdate, pipelineStatus);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new AiCsdRequestException($"The request is not valid JSON: {Preview(e.Message, 300)}", jobUpdate, pipelineStatus);
        }

        try
        {
            using (document)
            {
                return Read(document.RootElement, jobUpdate, pipelineStatus);
            }
        }
        catch (Exception e) when (e is not AiCsdRequestException)
        {
            // Whatever the bytes were, a request that cannot be read is that request's failure, never the worker's.
            throw new AiCsdRequestException($"The request could not be read: {Preview(e.Message, 300)}", jobUpdate, pipelineStatus);
        }
    }

    /// <summary>
    /// The callback URLs of a request, read by a forward scan that never throws and needs no
    /// document: from a request that is too large, too deep or malformed after them, they are still
    /// known, and its failure can be reported. Null where a URL is missing or not http(s).
    /// </summary>
    public static (Uri? JobUpdateUrl, Uri? PipelineStatusUrl) CallbacksOf(ReadOnlySpan<byte> json)
    {
        var scan = Scan(json);
        return (scan.JobUpdateUrl, scan.PipelineStatusUrl);
    }

    /// <summary>
    /// A string from a request as a message shows it: its start, and its length when cut, with control
    /// characters as '?' so that a value cannot forge log lines, and URL user info and signed queries
    /// hidden: a callback URL that is refused may still carry a token.
    /// </summary>
    public static string Preview(string text, int max = PreviewChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = Redaction.Text(text);
        var shown = text.Length <= max ? text : text[..max];
        if (shown.Any(char.IsControl))
        {
            shown = string.Create(shown.Length, shown, (span, source) =>
            {
                for (var i = 0; i < source.Length; i++)
                {
                    span[i] = char.IsControl(source[i]) ? '?' : source[i];
                }
            });
        }

        return text.Length <= max ? shown : $"{shown}... ({text.Length} characters)";
    }

    private static AiCsdRequest Read(JsonElement root, Uri? jobUpdate, Uri? pipelineStatus)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new AiCsdRequestException($"The request must be a JSON object; got {root.ValueKind}.", jobUpdate, pipelineStatus);
        }

        var problems = new List<string>();
        var input = RequiredPath(root, "InputFileLocation", problems);
        var output = RequiredPath(root, "OutputFileFolder", problems);
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
                problems.Add($"ModelParams must be an object of parameters, not {Preview(modelParams)}");
            }
            else
            {
                ReadParameters(modelParams, parameters, problems);
            }
        }

        string? gateway = null;
        if (root.TryGetProperty("GatewayIP", out var gatewayIp) && gatewayIp.ValueKind == JsonValueKind.String)
        {
            // Informational only: a gateway address that is not text is dropped rather than failing the request.
            gateway = TextOf(gatewayIp);
        }

        if (problems.Count > 0)
        {
            throw new AiCsdRequestException("The request is incomplete: " + string.Join("; ", problems) + ".", jobUpdate, pipelineStatus);
        }

        return new AiCsdRequest(input!, output!, parameters, jobUpdate!, pipelineStatus!, gateway);
    }

    private static void ReadParameters(JsonElement modelParams, Dictionary<string, string> parameters, List<string> problems)
    {
        var index = 0;
        foreach (var p in modelParams.EnumerateObject())
        {
            index++;
            string name;
            try
            {
                name = p.Name;
            }
            catch (InvalidOperationException)
            {
                problems.Add($"ModelParams' parameter {index} has a name that is not valid UTF-8 text");
                continue;
            }

            try
            {
                parameters[name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            catch (InvalidOperationException)
            {
                problems.Add($"ModelParams.{Preview(name)} is not valid UTF-8 text{InvalidByte(p.Value)}");
            }
        }
    }

    private static string? RequiredPath(JsonElement root, string name, List<string> problems)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            problems.Add(Describe(root, name, "a non-empty string"));
            return null;
        }

        if (TextOf(value) is not { } text)
        {
            problems.Add($"{name} must be a non-empty string, and is not even valid UTF-8 text{InvalidByte(value)}");
            return null;
        }

        if (text.Length == 0)
        {
            problems.Add($"{name} must be a non-empty string, not \"\"");
            return null;
        }

        if (text.Length > MaxPathLength)
        {
            problems.Add($"{name} is {text.Length} characters long, '{Preview(text)}'; a path has at most {MaxPathLength}");
            return null;
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add($"{name} '{Preview(text)}' contains a NUL character (shown as ?), which no path can");
            return null;
        }

        return text;
    }

    /// <summary>A string value's text, or null when it is not valid UTF-8 (or escapes a lone surrogate).</summary>
    private static string? TextOf(JsonElement value)
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

    /// <summary>Where in a value the first byte that is not UTF-8 sits, for the message; empty when it is an escape instead.</summary>
    private static string InvalidByte(JsonElement value)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
        var offset = 0;
        while (offset < raw.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(raw[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                // The raw value starts with its opening quote; the position counts bytes of the string itself.
                return $" (byte 0x{raw[offset]:X2} at byte {Math.Max(0, offset - 1)} of it)";
            }

            offset += consumed;
        }

        return string.Empty;
    }

    private static string Describe(JsonElement root, string name, string expected) =>
        root.TryGetProperty(name, out var value) ? $"{name} must be {expected}, not {Preview(value)}" : $"{name} is missing";

    /// <summary>A JSON value as a message shows it: the start of its text, and its length when cut.</summary>
    private static string Preview(JsonElement value)
    {
        try
        {
            return value.ValueKind == JsonValueKind.String
                ? TextOf(value) is { } text ? $"\"{Preview(text)}\"" : "a string that is not valid UTF-8 text"
                : Preview(value.GetRawText());
        }
        catch (InvalidOperationException)
        {
            return $"a {value.ValueKind} that is not valid UTF-8 text";
        }
    }

    private static Uri? UrlOf(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) ? url : null;

    /// <summary>
    /// One pass over the request's tokens: the callback URLs at its top level (the last of each, as the
    /// document would see it) and how deep it nests, and under which top-level field. A malformed or
    /// invalid stretch ends the scan with what it found before.
    /// </summary>
    private static ScanResult Scan(ReadOnlySpan<byte> json)
    {
        Uri? jobUpdate = null;
        Uri? pipelineStatus = null;
        var depth = 0;
        string? deepestUnder = null;
        string? field = null;
        try
        {
            var reader = new Utf8JsonReader(json, ScanOptions);
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (reader.CurrentDepth + 1 > depth)
                        {
                            depth = reader.CurrentDepth + 1;
                            deepestUnder = depth > 1 ? field : null;
                        }

                        break;
                    case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                        var isJob = reader.ValueTextEquals("JobUpdateUrl"u8);
                        var isStatus = !isJob && reader.ValueTextEquals("PipelineStatusUrl"u8);
                        field = NameOf(ref reader);
                        if ((isJob || isStatus) && reader.Read() && reader.TokenType == JsonTokenType.String)
                        {
                            Uri? url = null;
                            try
                            {
                                url = UrlOf(reader.GetString());
                            }
                            catch (InvalidOperationException)
                            {
                                // Not valid UTF-8: not a URL anyone can be called back at.
                            }

                            if (isJob)
                            {
                                jobUpdate = url;
                            }
                            else
                            {
                                pipelineStatus = url;
                            }
                        }
                        else if (isJob || isStatus)
                        {
                            // A value that is not a string (or is an object) is no URL; an earlier one is replaced, as the document would.
                            if (isJob)
                            {
                                jobUpdate = null;
                            }
                            else
                            {
                                pipelineStatus = null;
                            }

                            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth + 1 > depth)
                            {
                                depth = reader.CurrentDepth + 1;
                                deepestUnder = field;
                            }
                        }

                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Malformed from here on: what was found before stands.
        }

        return new ScanResult(jobUpdate, pipelineStatus, depth, deepestUnder);
    }

    private static string NameOf(ref Utf8JsonReader reader)
    {
        try
        {
            return Preview(reader.GetString() ?? string.Empty);
        }
        catch (InvalidOperationException)
        {
            return "a field whose name is not valid UTF-8 text";
        }
    }

    private readonly record struct ScanResult(Uri? JobUpdateUrl, Uri? PipelineStatusUrl, int Depth, string? DeepestUnder);
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
