using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Edge.Plugin.Manifest;

/// <summary>One broken rule of a plugin manifest: the field, as a path like <c>source.architectures[1]</c>, and the rule.</summary>
/// <param name="Field">Where the problem is; empty for the file as a whole.</param>
/// <param name="Rule">What the Edge Code Repository requires there, and what was found.</param>
internal sealed record ManifestProblem(string Field, string Rule)
{
    /// <inheritdoc />
    public override string ToString() => Field.Length == 0 ? Rule : $"{Field}: {Rule}";
}

/// <summary>
/// Checks a plugin manifest (<c>sage.json</c> or <c>sage.yaml</c>) against the rules the Edge Code
/// Repository (ECR) applies at registration, so a manifest is rejected at build time rather than by the portal.
/// </summary>
internal static partial class SageManifest
{
    /// <summary>The top-level fields ECR accepts.</summary>
    public static IReadOnlyList<string> AllowedFields { get; } =
    [
        "namespace", "name", "version", "description", "keywords", "authors", "collaborators", "homepage", "funding",
        "license", "source", "depends_on", "baseCommand", "arguments", "inputs", "resources", "metadata", "frozen", "testing",
    ];

    /// <summary>The platforms ECR builds for.</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"];

    /// <summary>The types an input may declare.</summary>
    public static IReadOnlyList<string> InputTypes { get; } = ["boolean", "int", "long", "float", "double", "string", "File"];

    private const int MaxBytes = 1024 * 1024;

    private static readonly string[] SourceFields = ["architectures", "url", "branch", "tag", "directory", "dockerfile", "build_args"];
    private static readonly string[] InputFields = ["id", "type", "description", "default"];

    /// <summary>Validates a manifest file; <c>.yaml</c>/<c>.yml</c> files are read as YAML, anything else as JSON.</summary>
    /// <returns>The problems found; empty when the manifest passes.</returns>
    public static IReadOnlyList<ManifestProblem> ValidateFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Every emitted project's build runs this: a huge or binary file must be a reported problem, not a
        // build that eats memory or dies.
        var length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            return [new ManifestProblem("", $"the file is {length} bytes, over the {MaxBytes}-byte limit for a manifest")];
        }

        var bytes = File.ReadAllBytes(path);
        var text = new char[bytes.Length];
        if (System.Text.Unicode.Utf8.ToUtf16(bytes, text, out var read, out var written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            return [new ManifestProblem("", $"not UTF-8 text: the byte at byte offset {read} (0x{bytes[read]:X2}) starts no UTF-8 character; save the manifest as UTF-8")];
        }

        return Path.GetExtension(path).ToUpperInvariant() is ".YAML" or ".YML"
            ? ValidateYaml(new string(text, 0, written).TrimStart('\uFEFF'))
            : ValidateJson(bytes);
    }

    /// <summary>Validates a sage.json document.</summary>
    /// <returns>The problems found; empty when the manifest passes.</returns>
    public static IReadOnlyList<ManifestProblem> ValidateJson(ReadOnlySpan<byte> utf8Json)
    {
        ManifestNode root;
        try
        {
            root = ManifestJsonReader.Read(utf8Json);
        }
        catch (JsonException e)
        {
            return [new ManifestProblem("", $"not valid JSON: {e.Message}")];
        }
        catch (InvalidOperationException)
        {
            // A string whose bytes are not UTF-8 (ValidateFile finds the offset before this point).
            return [new ManifestProblem("", "not UTF-8 text: save the manifest as UTF-8")];
        }

        return Validate(root);
    }

    /// <summary>Validates a sage.yaml document.</summary>
    /// <returns>The problems found; empty when the manifest passes.</returns>
    public static IReadOnlyList<ManifestProblem> ValidateYaml(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ManifestNode root;
        try
        {
            root = ManifestYamlReader.Read(yaml);
        }
        catch (FormatException e)
        {
            return [new ManifestProblem("", $"not valid manifest YAML: {e.Message}")];
        }

        return Validate(root);
    }

    private static List<ManifestProblem> Validate(ManifestNode root)
    {
        var problems = new List<ManifestProblem>();
        if (root.Kind != ManifestNodeKind.Object)
        {
            problems.Add(new("", $"a manifest is an object of fields, not {root.Describe()}"));
            return problems;
        }

        foreach (var (key, _) in root.Members)
        {
            if (!AllowedFields.Contains(key, StringComparer.Ordinal))
            {
                problems.Add(new(key, $"is not a field ECR accepts; allowed: {string.Join(", ", AllowedFields)}"));
            }
        }

        CheckName(root["name"], problems);
        CheckVersion(root["version"], problems);
        RequireText(root["description"], "description", problems);
        foreach (var field in new[] { "namespace", "keywords", "authors", "collaborators", "homepage", "funding", "license", "baseCommand" })
        {
            if (root[field] is { } node && node.Kind is not (ManifestNodeKind.String or ManifestNodeKind.Null))
            {
                problems.Add(new(field, $"must be a string, not {node.Describe()}"));
            }
        }

        CheckSource(root["source"], problems);
        CheckInputs(root["inputs"], problems);
        if (root["arguments"] is { } arguments && (arguments.Kind != ManifestNodeKind.Array || arguments.Items.Exists(a => a.Kind is ManifestNodeKind.Object or ManifestNodeKind.Array)))
        {
            problems.Add(new("arguments", "must be a list of strings"));
        }

        foreach (var field in new[] { "resources", "metadata", "testing", "depends_on" })
        {
            if (root[field] is { Kind: not (ManifestNodeKind.Object or ManifestNodeKind.Array or ManifestNodeKind.Null) } node)
            {
                problems.Add(new(field, $"must be an object or a list, not {node.Describe()}"));
            }
        }

        if (root["frozen"] is { Kind: not (ManifestNodeKind.Boolean or ManifestNodeKind.Null) } frozen)
        {
            problems.Add(new("frozen", $"must be true or false, not {frozen.Describe()}"));
        }

        return problems;
    }

    private static void CheckName(ManifestNode? name, List<ManifestProblem> problems)
    {
        if (RequireText(name, "name", problems) is not { } text)
        {
            return;
        }

        if (!NamePattern().IsMatch(text))
        {
            problems.Add(new("name", $"must match ^[a-z0-9_-]+$ (lower-case letters, digits, - and _); '{text}' does not"));
        }
        else if (text.Length > 256)
        {
            problems.Add(new("name", $"is {text.Length} characters long; container image names allow at most 256"));
        }
    }

    private static void CheckVersion(ManifestNode? version, List<ManifestProblem> problems)
    {
        if (version is { Kind: ManifestNodeKind.Number })
        {
            problems.Add(new("version", $"must be a quoted string MAJOR.MINOR.PATCH such as \"1.0.0\", not the number {version.Text}"));
            return;
        }

        if (RequireText(version, "version", problems) is { } text && !VersionPattern().IsMatch(text))
        {
            problems.Add(new("version", $"must be MAJOR.MINOR.PATCH with an optional -prerelease, numbers without leading zeros (for example 1.0.0 or 0.2.1-rc.1); '{text}' is not"));
        }
    }

    private static void CheckSource(ManifestNode? source, List<ManifestProblem> problems)
    {
        if (source is null)
        {
            problems.Add(new("source", "is required: architectures, url, branch or tag, directory, dockerfile and build_args"));
            return;
        }

        if (source.Kind != ManifestNodeKind.Object)
        {
            problems.Add(new("source", $"must be an object, not {source.Describe()}"));
            return;
        }

        foreach (var (key, _) in source.Members)
        {
            if (!SourceFields.Contains(key, StringComparer.Ordinal))
            {
                problems.Add(new($"source.{key}", $"is not a source field ECR accepts; allowed: {string.Join(", ", SourceFields)}"));
            }
        }

        CheckArchitectures(source["architectures"], problems);
        if (RequireText(source["url"], "source.url", problems) is { } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)) && !url.StartsWith("git@", StringComparison.Ordinal))
        {
            problems.Add(new("source.url", $"must be the git repository's http(s) or git@ URL; '{url}' is not"));
        }

        var branch = source["branch"];
        var tag = source["tag"];
        if (IsBlank(branch) && IsBlank(tag))
        {
            problems.Add(new("source.branch", "source needs a branch or a tag to build from"));
        }
        else
        {
            foreach (var (field, node) in new[] { ("source.branch", branch), ("source.tag", tag) })
            {
                if (node is { Kind: not (ManifestNodeKind.String or ManifestNodeKind.Null) })
                {
                    problems.Add(new(field, $"must be a string, not {node.Describe()}"));
                }
            }
        }

        if (source["directory"] is null)
        {
            problems.Add(new("source.directory", "is required: the folder of the repository holding the Dockerfile (\".\" for the root)"));
        }
        else if (source["directory"]!.Kind != ManifestNodeKind.String)
        {
            problems.Add(new("source.directory", $"must be a string, not {source["directory"]!.Describe()}"));
        }

        RequireText(source["dockerfile"], "source.dockerfile", problems);
        var buildArgs = source["build_args"];
        if (buildArgs is null)
        {
            problems.Add(new("source.build_args", "is required; write {} when there are none"));
        }
        else if (buildArgs.Kind != ManifestNodeKind.Object)
        {
            problems.Add(new("source.build_args", $"must be an object of NAME: value, not {buildArgs.Describe()}"));
        }
        else
        {
            foreach (var (key, value) in buildArgs.Members)
            {
                if (value.Kind is ManifestNodeKind.Object or ManifestNodeKind.Array)
                {
                    problems.Add(new($"source.build_args.{key}", $"must be a single value, not {value.Describe()}"));
                }
            }
        }
    }

    private static void CheckArchitectures(ManifestNode? architectures, List<ManifestProblem> problems)
    {
        const string field = "source.architectures";
        if (architectures is null || architectures.Kind != ManifestNodeKind.Array || architectures.Items.Count == 0)
        {
            problems.Add(new(field, $"must be a non-empty list drawn from {string.Join(", ", Architectures)}"));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < architectures.Items.Count; i++)
        {
            var item = architectures.Items[i];
            var text = item.Kind == ManifestNodeKind.String ? item.Text! : null;
            if (text is null || !Architectures.Contains(text, StringComparer.Ordinal))
            {
                problems.Add(new($"{field}[{i}]", $"'{item.Text}' is not an architecture ECR builds; allowed: {string.Join(", ", Architectures)}"));
            }
            else if (!seen.Add(text))
            {
                problems.Add(new($"{field}[{i}]", $"'{text}' is listed twice"));
            }
        }
    }

    private static void CheckInputs(ManifestNode? inputs, List<ManifestProblem> problems)
    {
        if (inputs is null || inputs.Kind == ManifestNodeKind.Null)
        {
            return;
        }

        if (inputs.Kind != ManifestNodeKind.Array)
        {
            problems.Add(new("inputs", $"must be a list of {{id, type, description, default}}, not {inputs.Describe()}"));
            return;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < inputs.Items.Count; i++)
        {
            var input = inputs.Items[i];
            var at = $"inputs[{i}]";
            if (input.Kind != ManifestNodeKind.Object)
            {
                problems.Add(new(at, $"must be an object {{id, type, description, default}}, not {input.Describe()}"));
                continue;
            }

            foreach (var (key, _) in input.Members)
            {
                if (!InputFields.Contains(key, StringComparer.Ordinal))
                {
                    problems.Add(new($"{at}.{key}", $"is not an input field; allowed: {string.Join(", ", InputFields)}"));
                }
            }

            if (RequireText(input["id"], $"{at}.id", problems) is { } id)
            {
                if (!InputIdPattern().IsMatch(id))
                {
                    problems.Add(new($"{at}.id", $"must be an option name (letters, digits, _ and -, starting with a letter); '{id}' is not"));
                }
                else if (!ids.Add(id))
                {
                    problems.Add(new($"{at}.id", $"'{id}' is declared twice"));
                }
            }

            RequireText(input["description"], $"{at}.description", problems);
            var type = RequireText(input["type"], $"{at}.type", problems);
            if (type is not null && !InputTypes.Contains(type, StringComparer.Ordinal))
            {
                problems.Add(new($"{at}.type", $"'{type}' is not an input type; allowed: {string.Join(", ", InputTypes)}"));
                type = null;
            }

            var value = input["default"];
            if (value is null)
            {
                problems.Add(new($"{at}.default", "is required (an empty string when there is none)"));
            }
            else if (type is not null && !DefaultFits(value, type))
            {
                problems.Add(new($"{at}.default", $"'{value.Text}' is not a {type}"));
            }
        }
    }

    private static bool DefaultFits(ManifestNode value, string type)
    {
        if (value.Kind is ManifestNodeKind.Object or ManifestNodeKind.Array)
        {
            return false;
        }

        var text = value.Text ?? "";
        // ECR's own examples give every default as a string; an empty one means "not set".
        if (value.Kind == ManifestNodeKind.Null || (value.Kind == ManifestNodeKind.String && text.Length == 0))
        {
            return true;
        }

        return type switch
        {
            "boolean" => text is "true" or "false" or "True" or "False",
            "int" => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            "long" => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            "float" or "double" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d),
            _ => value.Kind == ManifestNodeKind.String || value.Kind == ManifestNodeKind.Number,
        };
    }

    private static bool IsBlank(ManifestNode? node) =>
        node is null || node.Kind == ManifestNodeKind.Null || (node.Kind == ManifestNodeKind.String && string.IsNullOrWhiteSpace(node.Text));

    private static string? RequireText(ManifestNode? node, string field, List<ManifestProblem> problems)
    {
        if (node is null || node.Kind == ManifestNodeKind.Null)
        {
            problems.Add(new(field, "is required"));
            return null;
        }

        if (node.Kind != ManifestNodeKind.String)
        {
            problems.Add(new(field, $"must be a string, not {node.Describe()}"));
            return null;
        }

        if (string.IsNullOrWhiteSpace(node.Text))
        {
            problems.Add(new(field, "must not be empty"));
            return null;
        }

        return node.Text;
    }

    [GeneratedRegex("^[a-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex InputIdPattern();
}
