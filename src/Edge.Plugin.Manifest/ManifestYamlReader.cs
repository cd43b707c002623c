using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Edge.Plugin.Manifest;

/// <summary>
/// Reads the YAML that sage.yaml files use: block mappings and sequences, one-line flow lists and
/// maps, plain and quoted scalars, comments. Anchors, tags and multi-line scalars are refused by
/// name rather than misread, so a manifest is never half-validated.
/// </summary>
internal static partial class ManifestYamlReader
{
    private readonly record struct Line(int Number, int Indent, string Text);

    private const int MaxFlowDepth = 64;

    /// <exception cref="FormatException">The YAML is malformed or uses a construct outside this subset; the message names the line.</exception>
    public static ManifestNode Read(string text)
    {
        var lines = Split(text);
        if (lines.Count == 0)
        {
            throw new FormatException("the file is empty");
        }

        var position = 0;
        var root = ReadBlock(lines, ref position, lines[0].Indent);
        if (position < lines.Count)
        {
            throw new FormatException($"line {lines[position].Number}: unexpected indentation");
        }

        return root;
    }

    private static List<Line> Split(string text)
    {
        var lines = new List<Line>();
        var number = 0;
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            number++;
            if (raw.Contains('\t', StringComparison.Ordinal) && raw.TrimStart(' ').StartsWith('\t'))
            {
                throw new FormatException($"line {number}: tabs are not allowed for indentation in YAML");
            }

            var content = StripComment(raw).TrimEnd();
            var trimmed = content.TrimStart(' ');
            if (trimmed.Length == 0 || (lines.Count == 0 && trimmed == "---"))
            {
                continue;
            }

            if (trimmed is "---" or "...")
            {
                throw new FormatException($"line {number}: a manifest holds one YAML document");
            }

            lines.Add(new Line(number, content.Length - trimmed.Length, trimmed));
        }

        return lines;
    }

    private static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or '[' or '{' or ',' or ':' or '-'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }

        return line;
    }

    private static ManifestNode ReadBlock(List<Line> lines, ref int position, int indent) =>
        IsSequenceItem(lines[position].Text) ? ReadSequence(lines, ref position, indent) : ReadMapping(lines, ref position, indent);

    private static bool IsSequenceItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    private static ManifestNode ReadSequence(List<Line> lines, ref int position, int indent)
    {
        var sequence = ManifestNode.Array();
        while (position < lines.Count && lines[position].Indent == indent && IsSequenceItem(lines[position].Text))
        {
            var line = lines[position];
            var rest = line.Text[1..].TrimStart(' ');
            if (rest.Length == 0)
            {
                position++;
                sequence.Items.Add(position < lines.Count && lines[position].Indent > indent
                    ? ReadBlock(lines, ref position, lines[position].Indent)
                    : ManifestNode.Scalar(ManifestNodeKind.Null, "null"));
                continue;
            }

            if (FindKeySeparator(rest) >= 0 || IsSequenceItem(rest))
            {
                // "- id: x" opens a mapping whose keys line up with "id".
                var column = indent + (line.Text.Length - rest.Length);
                lines[position] = line with { Indent = column, Text = rest };
                sequence.Items.Add(ReadBlock(lines, ref position, column));
                continue;
            }

            sequence.Items.Add(ReadInline(rest, line.Number));
            position++;
        }

        return sequence;
    }

    private static ManifestNode ReadMapping(List<Line> lines, ref int position, int indent)
    {
        var mapping = ManifestNode.Object();
        while (position < lines.Count && lines[position].Indent == indent)
        {
            var line = lines[position];
            if (IsSequenceItem(line.Text))
            {
                throw new FormatException($"line {line.Number}: a list item where a 'key: value' was expected");
            }

            var separator = FindKeySeparator(line.Text);
            if (separator < 0)
            {
                throw new FormatException($"line {line.Number}: expected 'key: value', found '{line.Text}'");
            }

            var key = Unquote(line.Text[..separator].Trim(), line.Number);
            if (mapping[key] is not null)
            {
                throw new FormatException($"line {line.Number}: key '{key}' appears twice");
            }

            var value = line.Text[(separator + 1)..].Trim();
            position++;
            ManifestNode node;
            if (value.Length > 0)
            {
                node = ReadInline(value, line.Number);
            }
            else if (position < lines.Count && (lines[position].Indent > indent || (lines[position].Indent == indent && IsSequenceItem(lines[position].Text))))
            {
                node = ReadBlock(lines, ref position, lines[position].Indent);
            }
            else
            {
                node = ManifestNode.Scalar(ManifestNodeKind.Null, "null");
            }

            mapping.Members.Add(new(key, node));
        }

        if (position < lines.Count && lines[position].Indent > indent)
        {
            throw new FormatException($"line {lines[position].Number}: unexpected indentation");
        }

        return mapping;
    }

    private static int FindKeySeparator(string text)
    {
        var quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'' && i == 0)
            {
                quote = c;
            }
            else if (c is '[' or '{' && i == 0)
            {
                return -1;
            }
            else if (c == ':' && (i == text.Length - 1 || text[i + 1] == ' '))
            {
                return i;
            }
        }

        return -1;
    }

    private static ManifestNode ReadInline(string text, int line, int depth = 0)
    {
        // Each [ ] or { } level is one recursion: a hostile flow list must end as a problem, not a stack overflow.
        if (depth > MaxFlowDepth)
        {
            throw new FormatException($"line {line}: lists or maps nested more than {MaxFlowDepth} levels deep");
        }

        if (text[0] is '|' or '>' or '&' or '*' or '!' or '?')
        {
            throw new FormatException($"line {line}: '{text[0]}' (block scalars, anchors, aliases, tags) is not supported in a manifest; write the value on one line");
        }

        if (text[0] == '[')
        {
            var list = ManifestNode.Array();
            foreach (var item in SplitFlow(text, ']', line))
            {
                list.Items.Add(ReadInline(item, line, depth + 1));
            }

            return list;
        }

        if (text[0] == '{')
        {
            var map = ManifestNode.Object();
            foreach (var item in SplitFlow(text, '}', line))
            {
                var separator = FindKeySeparator(item);
                if (separator < 0)
                {
                    throw new FormatException($"line {line}: expected 'key: value' inside {{ }}, found '{item}'");
                }

                map.Members.Add(new(Unquote(item[..separator].Trim(), line), ReadInline(item[(separator + 1)..].Trim(), line, depth + 1)));
            }

            return map;
        }

        if (text[0] is '"' or '\'')
        {
            return ManifestNode.Scalar(ManifestNodeKind.String, Unquote(text, line), quoted: true);
        }

        return text switch
        {
            "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => ManifestNode.Scalar(ManifestNodeKind.Boolean, text.ToLowerInvariant()),
            "null" or "Null" or "NULL" or "~" => ManifestNode.Scalar(ManifestNodeKind.Null, "null"),
            _ when NumberPattern().IsMatch(text) => ManifestNode.Scalar(ManifestNodeKind.Number, text),
            _ => ManifestNode.Scalar(ManifestNodeKind.String, text),
        };
    }

    private static List<string> SplitFlow(string text, char close, int line)
    {
        if (text[^1] != close)
        {
            throw new FormatException($"line {line}: '{text[0]}' is not closed by '{close}' on the same line");
        }

        var items = new List<string>();
        var body = text[1..^1];
        var depth = 0;
        var quote = '\0';
        var start = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c is '[' or '{')
            {
                depth++;
            }
            else if (c is ']' or '}')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                items.Add(body[start..i].Trim());
                start = i + 1;
            }
        }

        var last = body[start..].Trim();
        if (last.Length > 0 || items.Count > 0)
        {
            items.Add(last);
        }

        if (items.Exists(i => i.Length == 0))
        {
            throw new FormatException($"line {line}: an empty item in '{text}'");
        }

        return items;
    }

    private static string Unquote(string text, int line)
    {
        if (text.Length == 0 || text[0] is not ('"' or '\''))
        {
            return text;
        }

        var quote = text[0];
        if (text.Length < 2 || text[^1] != quote)
        {
            throw new FormatException($"line {line}: the string {text} is not closed by {quote}");
        }

        var body = text[1..^1];
        if (quote == '\'')
        {
            return body.Replace("''", "'", StringComparison.Ordinal);
        }

        var result = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != '\\' || i == body.Length - 1)
            {
                result.Append(body[i]);
                continue;
            }

            var next = body[++i];
            switch (next)
            {
                case 'n': result.Append('\n'); break;
                case 't': result.Append('\t'); break;
                case '"': result.Append('"'); break;
                case '\\': result.Append('\\'); break;
                case '/': result.Append('/'); break;
                case 'u' when i + 4 < body.Length:
                    result.Append((char)int.Parse(body.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: throw new FormatException($"line {line}: unknown escape \\{next}");
            }
        }

        return result.ToString();
    }

    [GeneratedRegex(@"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();
}
