namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    /// <summary>
    /// Abaco runs: each <c>MSG</c> given to a one-shot plugin. A message that cannot be read exits 2 naming
    /// MSG or its field; an input that cannot be had exits 1 or 3 naming it.
    /// </summary>
    private IEnumerable<BadInputCase> Messages(Server server)
    {
        string[] unreadable =
        [
            "", "   ", "{", "}", "[1, 2]", "42", "null", "None", "'data_url'", "{'data_url': }", "{'data_url' 'x'}",
            "{'data_url': 'x',}", "{\"data_url\": \"http://x\"", "{'data_url': 'unterminated}", "{{'data_url': 'x'}}",
            "{'a': 1, 'a': 2", "{'data_url': 'a', 'predictions': }", "{data_url: 'x'}", "{'data_url': \"mixed'}",
            "{'x': " + new string('[', 5000) + new string(']', 5000) + "}",
            "{'x': " + string.Concat(Enumerable.Repeat("{'y': ", 3000)) + "1" + new string('}', 3000) + "}",
            "{'blob': '" + new string('x', 70_000) + "', 'data_url': 'http://127.0.0.1/x.jpg'}",
            "{'data_url': 'http://127.0.0.1/" + new string('a', 70_000) + ".jpg'}",
        ];
        for (var i = 0; i < unreadable.Length; i++)
        {
            yield return Abaco($"unreadable-{i}", unreadable[i], [Usage], "MSG");
        }

        string[] noInput = ["{}", "{'predictions': 3}", "{'data_name': 'barn.jpg'}", "{'data_url': ''}", "{'data_url': None}", "{'input': ''}"];
        for (var i = 0; i < noInput.Length; i++)
        {
            yield return Abaco($"no-input-{i}", noInput[i], [Usage], "input");
        }

        foreach (var (name, value) in new[] { ("number", "5"), ("list", "['http://127.0.0.1/x.jpg']"), ("object", "{'url': 'x'}"), ("true", "True") })
        {
            yield return Abaco($"data_url-is-a-{name}", $"{{'data_url': {value}}}", [Usage], "data_url");
        }

        foreach (var (name, url) in new[]
        {
            ("file-scheme", "file:///etc/passwd"), ("ftp-scheme", "ftp://127.0.0.1/x.jpg"), ("javascript", "javascript:alert(1)"),
            ("data-scheme", "data:image/jpeg;base64,AAAA"), ("relative", "x.jpg"), ("no-host", "http://"), ("bad-ipv6", "http://[::1/x.jpg"),
        })
        {
            yield return Abaco($"data_url/{name}", $"{{'data_url': '{url}'}}", [Usage, StartFailed], "data_url");
        }

        foreach (var (name, value) in new[] { ("negative", "-1"), ("zero", "0"), ("text", "'abc'"), ("fraction", "2.5"), ("huge", "1000000000000"), ("list", "[5]"), ("bool", "True") })
        {
            yield return Abaco($"predictions/{name}", $"{{'data_url': '{server.Url("ok.jpg")}', 'predictions': {value}}}", [Usage], "predictions");
        }

        foreach (var path in new[] { "missing.jpg", "forbidden.jpg", "error.jpg", "unavailable.jpg", "stall.jpg", "drip.jpg", "endless.jpg", "loop.jpg", "to-file.jpg", "to-ftp.jpg", "no-location.jpg", "text.jpg", "empty.jpg", "truncated.jpg" })
        {
            yield return Abaco($"download/{path}", $"{{'data_url': '{server.Url(path)}'}}", [Failed, StartFailed], path);
        }

        yield return Abaco("download/refused-connection", "{'data_url': 'http://127.0.0.1:1/x.jpg'}", [StartFailed], "127.0.0.1:1");
        yield return Abaco("download/tls-to-plain-http", $"{{'data_url': 'https://127.0.0.1:{server.Port}/ok.jpg'}}", [StartFailed], "ok.jpg");

        foreach (var (name, path) in new[] { ("missing", Path.Combine(Folder, "nothing-here.jpg")), ("fifo", Fifo("abaco-fifo.jpg")), ("dev-zero", "/dev/zero"), ("directory", Folder) })
        {
            yield return Abaco($"input/{name}", $"{{'input': '{path}'}}", [Failed, Usage, StartFailed], path);
        }
    }

    private static BadInputCase Abaco(string name, string message, int[] exitCodes, string named) =>
        new("msg", name, Child.Dotnet(Child.Probe, ["plugin"], new Dictionary<string, string?>
        {
            ["MSG"] = message,
            ["_abaco_actor_id"] = "bad-input-suite",
            ["Triggers__Abaco__DownloadIdleTimeout"] = "00:00:02",
            ["Triggers__Abaco__DownloadTimeout"] = "00:00:05",
            ["Triggers__Abaco__MaxDownloadBytes"] = "1000000",
        }), exitCodes, [named]);
}
