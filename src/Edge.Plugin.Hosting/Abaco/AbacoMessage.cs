using System.Globalization;
using System.Text;

namespace Edge.Plugin.Hosting;

/// <summary>
/// Reads an Abaco actor's <c>MSG</c>: a JSON object, or the JSON-like Python dict Abaco often
/// passes (<c>{'data_url': 'https://...', 'predictions': 3, 'verbose': True}</c>): single or double
/// quotes, <c>True</c>/<c>False</c>/<c>None</c> as well as <c>true</c>/<c>false</c>/<c>null</c>.
/// Scalars become strings; nested lists and objects are kept as their source text.
/// </summary>
internal static class AbacoMessage
{
    /// <exception cref="FormatException">The text is not such an object; the message gives the position and what was expected.</exception>
    public static Dictionary<string, string> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(text);
        reader.SkipSpace();
        if (!reader.TryTake('{'))
        {
            throw reader.Error("expected '{' to start an object of parameters");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        reader.SkipSpace();
        if (!reader.TryTake('}'))
        {
            while (true)
            {
                reader.SkipSpace();
                if (reader.Peek is not ('\'' or '"'))
                {
                    throw reader.Error("expected a quoted key");
                }

                var key = reader.ReadString();
                reader.SkipSpace();
                if (!reader.TryTake(':'))
                {
                    throw reader.Error($"expected ':' after key '{key}'");
                }

                reader.SkipSpace();
                values[key] = reader.ReadValue(key);
                reader.SkipSpace();
                if (reader.TryTake(','))
                {
                    reader.SkipSpace();
                    if (reader.TryTake('}'))
                    {
                        break;
                    }

                    continue;
                }

                if (reader.TryTake('}'))
                {
                    break;
                }

                throw reader.Error($"expected ',' or '}}' after the value of '{key}'");
            }
        }

        reader.SkipSpace();
        if (!reader.AtEnd)
        {
            throw reader.Error("unexpected text after the closing '}'");
        }

        return values;
    }

    private sealed class Reader(string text)
    {
        private int _at;

        public bool AtEnd => _at >= text.Length;

        public char Peek => AtEnd ? '\0' : text[_at];

        public FormatException Error(string what) =>
            new($"MSG is not a JSON object or Python dict: {what} {(AtEnd ? "at the end" : $"at character {_at + 1}")} of its {text.Length} characters (\"{Excerpt()}\").");

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        public bool TryTake(char c)
        {
            if (Peek != c || AtEnd)
            {
                return false;
            }

            _at++;
            return true;
        }

        public string ReadValue(string key)
        {
            switch (Peek)
            {
                case '\'' or '"':
                    return ReadString();
                case '{' or '[':
                    return ReadNested();
                default:
                    var start = _at;
                    while (!AtEnd && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '.' or '-' or '+'))
                    {
                        _at++;
                    }

                    var word = text[start.._at];
                    return word switch
                    {
                        "True" or "true" => "true",
                        "False" or "false" => "false",
                        "None" or "null" => string.Empty,
                        _ when double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => word,
                        _ => throw ErrorAt(start, $"the value of '{key}' must be a quoted string, a number, True, False or None, not '{word}'"),
                    };
            }
        }

        public string ReadString()
        {
            var quote = text[_at++];
            var value = new StringBuilder();
            while (!AtEnd && text[_at] != quote)
            {
                var c = text[_at++];
                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }

                if (AtEnd)
                {
                    break;
                }

                var escaped = text[_at++];
                switch (escaped)
                {
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case 'u' when _at + 4 <= text.Length && ushort.TryParse(text.AsSpan(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                        value.Append((char)code);
                        _at += 4;
                        break;
                    default: value.Append(escaped); break;
                }
            }

            if (!TryTake(quote))
            {
                throw Error($"a string opened with {quote} is never closed");
            }

            return value.ToString();
        }

        private string ReadNested()
        {
            var start = _at;
            var depth = 0;
            while (!AtEnd)
            {
                var c = text[_at];
                if (c is '\'' or '"')
                {
                    ReadString();
                    continue;
                }

                _at++;
                depth += c is '{' or '[' ? 1 : c is '}' or ']' ? -1 : 0;
                if (depth == 0)
                {
                    return text[start.._at];
                }
            }

            throw ErrorAt(start, "a nested list or object is never closed");
        }

        private FormatException ErrorAt(int position, string what)
        {
            _at = position;
            return Error(what);
        }

        private string Excerpt()
        {
            var from = Math.Max(0, _at - 15);
            var to = Math.Min(text.Length, _at + 15);
            return (from > 0 ? "..." : string.Empty) + text[from.._at] + "^" + text[_at..to] + (to < text.Length ? "..." : string.Empty);
        }
    }
}
