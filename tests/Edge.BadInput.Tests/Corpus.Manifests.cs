using System.Text;
using System.Text.Json.Nodes;

namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    private const string ValidJson = """
        {
          "name": "bad-input", "version": "0.1.0", "description": "A plugin.",
          "source": { "architectures": ["linux/amd64"], "url": "https://github.com/org/bad-input", "branch": "main",
                      "directory": ".", "dockerfile": "Dockerfile", "build_args": {} },
          "inputs": [ { "id": "input", "type": "string", "description": "Frames.", "default": "x" } ]
        }
        """;

    private const string ValidYaml = """
        name: bad-input
        version: "0.1.0"
        description: A plugin.
        source:
          architectures:
            - linux/amd64
          url: https://github.com/org/bad-input
          branch: main
          directory: .
          dockerfile: Dockerfile
          build_args: {}
        inputs:
          - id: input
            type: string
            description: Frames.
            default: x
        """;

    /// <summary>Each manifest through the check every emitted project's build runs: a problem exits 1 naming the field.</summary>
    private IEnumerable<BadInputCase> Manifests()
    {
        // Wrong fields, in JSON: the problem names the field.
        (string Name, string Field, Action<JsonObject> Change)[] wrong =
        [
            ("name-missing", "name", m => m.Remove("name")),
            ("name-number", "name", m => m["name"] = 7),
            ("name-upper-case", "name", m => m["name"] = "Bad Input"),
            ("name-too-long", "name", m => m["name"] = new string('a', 300)),
            ("version-number", "version", m => m["version"] = 1.0),
            ("version-leading-zero", "version", m => m["version"] = "01.0.0"),
            ("version-two-parts", "version", m => m["version"] = "1.0"),
            ("version-missing", "version", m => m.Remove("version")),
            ("description-missing", "description", m => m.Remove("description")),
            ("description-list", "description", m => m["description"] = new JsonArray("a")),
            ("unknown-field", "colour", m => m["colour"] = "blue"),
            ("source-missing", "source", m => m.Remove("source")),
            ("source-string", "source", m => m["source"] = "github"),
            ("architectures-unknown", "architectures", m => m["source"]!["architectures"] = new JsonArray("linux/sparc")),
            ("architectures-string", "architectures", m => m["source"]!["architectures"] = "linux/amd64"),
            ("source-url-ftp", "source.url", m => m["source"]!["url"] = "ftp://example.org/x"),
            ("source-unknown-field", "source", m => m["source"]!["colour"] = "blue"),
            ("inputs-object", "inputs", m => m["inputs"] = new JsonObject()),
            ("inputs-item-string", "inputs", m => m["inputs"] = new JsonArray("input")),
            ("input-without-id", "inputs", m => ((JsonObject)m["inputs"]![0]!).Remove("id")),
            ("input-unknown-type", "inputs", m => m["inputs"]![0]!["type"] = "tensor"),
            ("arguments-object", "arguments", m => m["arguments"] = new JsonObject()),
            ("frozen-text", "frozen", m => m["frozen"] = "yes"),
            ("resources-number", "resources", m => m["resources"] = 4),
            ("license-number", "license", m => m["license"] = 3),
            ("keywords-list-of-lists", "keywords", m => m["keywords"] = new JsonArray(new JsonArray("a"))),
        ];
        foreach (var (name, field, change) in wrong)
        {
            var manifest = JsonNode.Parse(ValidJson)!.AsObject();
            change(manifest);
            yield return Manifest($"json/{name}", "sage.json", Encoding.UTF8.GetBytes(manifest.ToJsonString()), field);
        }

        // Text that is no manifest at all: the problem names the file and says why.
        (string Name, string File, byte[] Bytes)[] unreadable =
        [
            ("json/empty", "sage.json", []),
            ("json/whitespace", "sage.json", "  \n\t "u8.ToArray()),
            ("json/null", "sage.json", "null"u8.ToArray()),
            ("json/array", "sage.json", "[]"u8.ToArray()),
            ("json/number", "sage.json", "42"u8.ToArray()),
            ("json/trailing-comma", "sage.json", "{\"name\": \"x\",}"u8.ToArray()),
            ("json/unterminated-string", "sage.json", "{\"name\": \"x}"u8.ToArray()),
            ("json/single-quotes", "sage.json", "{'name': 'x'}"u8.ToArray()),
            ("json/cut-in-half", "sage.json", Encoding.UTF8.GetBytes(ValidJson[..(ValidJson.Length / 2)])),
            ("json/not-utf8", "sage.json", [.. "{\"name\": \"caf"u8.ToArray(), 0xE9, .. "\"}"u8.ToArray()]),
            ("json/nul-bytes", "sage.json", [.. "{\"name\": \"a"u8.ToArray(), 0, .. "\"}"u8.ToArray()]),
            ("json/utf16", "sage.json", Encoding.Unicode.GetBytes(ValidJson)),
            ("json/deeply-nested", "sage.json", Encoding.UTF8.GetBytes("{\"a\": " + new string('[', 100_000) + new string(']', 100_000) + "}")),
            ("json/two-megabytes", "sage.json", Encoding.UTF8.GetBytes("{\"description\": \"" + new string('x', 2 * 1024 * 1024) + "\"}")),
            ("json/noise", "sage.json", Noise(4096)),
            ("yaml/empty", "sage.yaml", []),
            ("yaml/tab-indented", "sage.yaml", Encoding.UTF8.GetBytes(ValidYaml.Replace("  ", "\t", StringComparison.Ordinal))),
            ("yaml/unterminated-quote", "sage.yaml", "name: \"bad\nversion: \"1.0.0\"\n"u8.ToArray()),
            ("yaml/unclosed-flow-list", "sage.yaml", "name: x\nkeywords: [a, b\n"u8.ToArray()),
            ("yaml/bad-indentation", "sage.yaml", "name: x\n source:\n    url: y\n  branch: z\n"u8.ToArray()),
            ("yaml/undefined-alias", "sage.yaml", "name: *who\n"u8.ToArray()),
            ("yaml/python-tag", "sage.yaml", "name: !!python/object/apply:os.system ['id']\n"u8.ToArray()),
            ("yaml/deeply-nested-flow", "sage.yaml", Encoding.UTF8.GetBytes("a: " + new string('[', 100_000) + new string(']', 100_000))),
            ("yaml/deeply-nested-blocks", "sage.yaml", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', i) + "k:\n")))),
            ("yaml/not-utf8", "sage.yaml", [.. "name: caf"u8.ToArray(), 0xE9, .. "\n"u8.ToArray()]),
            ("yaml/a-list", "sage.yaml", "- name: x\n"u8.ToArray()),
            ("yaml/a-scalar", "sage.yaml", "just text\n"u8.ToArray()),
            ("yaml/noise", "sage.yaml", Noise(4096)),
        ];
        foreach (var (name, file, bytes) in unreadable)
        {
            yield return Manifest(name, file, bytes, file);
        }

        var yamlWrong = ValidYaml.Replace("version: \"0.1.0\"", "version: 0.1", StringComparison.Ordinal);
        yield return Manifest("yaml/version-number", "sage.yaml", Encoding.UTF8.GetBytes(yamlWrong), "version");
        yield return Manifest("yaml/unknown-field", "sage.yaml", Encoding.UTF8.GetBytes(ValidYaml + "\ncolour: blue\n"), "colour");
        yield return Manifest("yaml/architectures-unknown", "sage.yaml", Encoding.UTF8.GetBytes(ValidYaml.Replace("linux/amd64", "linux/sparc", StringComparison.Ordinal)), "architectures");
        yield return Manifest("missing-file", "sage.json", null, "sage.json");
    }

    private BadInputCase Manifest(string name, string file, byte[]? bytes, string named)
    {
        var path = Path.Combine(Folder, "manifests", name.Replace('/', '-'), file);
        if (bytes is not null)
        {
            Write(Path.GetRelativePath(Folder, path), bytes);
        }

        return new BadInputCase("manifest", name, Child.Dotnet(Child.ManifestCheck, [path]), [1], [named, path]);
    }
}
