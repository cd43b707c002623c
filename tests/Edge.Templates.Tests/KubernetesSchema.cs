using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Edge.Templates.Tests;

/// <summary>
/// Checks Kubernetes manifests offline against the object schemas KubernetesClient carries, decoding
/// them as kubectl and the API server do: YAML becomes JSON (a quoted "8080" stays a string, a plain 8080
/// is a number), and the JSON is read strictly into the object model, so an unknown or misspelt field and
/// a value of the wrong type both fail, naming the field.
/// </summary>
/// <remarks>
/// KubernetesYaml alone is not enough: by default it ignores unknown fields, and even in its strict mode
/// it converts scalars to whatever the property wants (env value: 8080, replicas: "1"), which the API
/// server refuses.
/// </remarks>
internal static partial class KubernetesSchema
{
    private static readonly Dictionary<(string ApiVersion, string Kind), Type> Kinds = typeof(V1Pod).Assembly.GetTypes()
        .Where(t => typeof(IKubernetesObject).IsAssignableFrom(t) && t.GetCustomAttribute<KubernetesEntityAttribute>() is { Kind.Length: > 0 })
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()!))
        .DistinctBy(e => (e.Entity.Group, e.Entity.ApiVersion, e.Entity.Kind))
        .ToDictionary(e => (e.Entity.Group.Length == 0 ? e.Entity.ApiVersion : $"{e.Entity.Group}/{e.Entity.ApiVersion}", e.Entity.Kind), e => e.Type);

    // KubernetesClient's own options (its converters for quantities, int-or-string and times), copied
    // rather than changed, with unknown members refused.
    private static readonly Lazy<JsonSerializerOptions> Strict = new(() =>
    {
        JsonSerializerOptions? strict = null;
        KubernetesJson.AddJsonOptions(o => strict = new JsonSerializerOptions(o) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow });
        return strict!;
    });

    public static IReadOnlyList<IKubernetesObject> ReadFile(string path) => Read(File.ReadAllText(path));

    /// <summary>Every object in the (multi-document) YAML, or an exception naming what the API server would refuse.</summary>
    public static IReadOnlyList<IKubernetesObject> Read(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            // YamlDotNet refuses a second key of the same name in a mapping, as the API server does.
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new KubernetesSchemaException($"line {e.Start.Line}: {e.Message}", e);
        }

        var objects = new List<IKubernetesObject>();
        foreach (var document in stream.Documents)
        {
            var json = ToJson(document.RootNode);
            if (json is null)
            {
                continue; // an empty document, which kubectl skips too
            }

            if (json is not JsonObject manifest || manifest["apiVersion"]?.GetValueKind() != JsonValueKind.String || manifest["kind"]?.GetValueKind() != JsonValueKind.String)
            {
                throw new KubernetesSchemaException($"line {document.RootNode.Start.Line}: a manifest is a mapping with apiVersion and kind strings");
            }

            var (apiVersion, kind) = ((string)manifest["apiVersion"]!, (string)manifest["kind"]!);
            if (!Kinds.TryGetValue((apiVersion, kind), out var type))
            {
                throw new KubernetesSchemaException($"line {document.RootNode.Start.Line}: no kind {kind} in {apiVersion}");
            }

            try
            {
                objects.Add((IKubernetesObject)manifest.Deserialize(type, Strict.Value)!);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                throw new KubernetesSchemaException($"{kind} {manifest["metadata"]?["name"]}: {e.Message}", e);
            }
        }

        return objects;
    }

    private static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var json = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new KubernetesSchemaException($"line {key.Start.Line}: a key must be a string");
                    }

                    json.Add(name, ToJson(value));
                }

                return json;
            case YamlSequenceNode sequence:
                return new JsonArray([.. sequence.Children.Select(ToJson)]);
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new KubernetesSchemaException($"line {node.Start.Line}: unsupported YAML node {node.NodeType}");
        }
    }

    /// <summary>
    /// A plain scalar's type as go-yaml v2 (which kubectl uses) resolves it: YAML 1.1 booleans
    /// (true, yes, on...), null, and numbers; anything quoted, or tagged !!str, is a string.
    /// </summary>
    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain || scalar.Tag == "tag:yaml.org,2002:str")
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON":
                return JsonValue.Create(true);
            case "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
        }

        if (Integer().IsMatch(text))
        {
            return JsonValue.Create(long.Parse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        }

        if (Float().IsMatch(text))
        {
            return JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        // Hex, octal, .inf and .nan are read as strings: none appears in these manifests.
        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}

/// <summary>What the API server would refuse in a manifest.</summary>
internal sealed class KubernetesSchemaException(string message, Exception? inner = null) : Exception(message, inner);
