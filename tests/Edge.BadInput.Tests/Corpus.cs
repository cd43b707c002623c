using Edge.Testing;

namespace Edge.BadInput.Tests;

/// <summary>
/// The hostile inputs, generated into a scratch folder from a fixed seed so that a failing case is the
/// same file on every run and every machine.
/// </summary>
internal sealed partial class Corpus : IDisposable
{
    private readonly Random _random = new(20261203);

    public Corpus()
    {
        Folder = Directory.CreateTempSubdirectory("edge-bad-input-").FullName;
        GoodJpeg = Write("good.jpg", Encode("jpg"));
    }

    public string Folder { get; }

    /// <summary>A real 80x60 JPEG: the input for cases whose hostile part is elsewhere.</summary>
    public string GoodJpeg { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    public string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public string Write(string name, string text) => Write(name, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A FIFO nobody writes to: opening it for reading blocks for ever.</summary>
    public string Fifo(string name)
    {
        var path = Path.Combine(Folder, name);
        var made = Tool.Run("mkfifo", [path]);
        return made.ExitCode == 0 ? path : throw new InvalidOperationException($"mkfifo failed: {made}");
    }

    /// <summary>A real image in <paramref name="extension"/>'s format, drawn by ffmpeg.</summary>
    public byte[] Encode(string extension, string pixelFormat = "")
    {
        var path = Path.Combine(Folder, $"source-{Guid.NewGuid():N}.{extension}");
        // TIFF as RGB: ffmpeg would otherwise write YCbCr, which the decoder refuses by name.
        string[] format = pixelFormat.Length > 0 ? ["-pix_fmt", pixelFormat] : extension == "tif" ? ["-pix_fmt", "rgb24"] : [];
        Tool.RunBinary("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=80x60", "-frames:v", "1", .. format, "-y", path]);
        var data = File.ReadAllBytes(path);
        File.Delete(path);
        return data;
    }

    private byte[] Corrupted(byte[] data, int skip, int bytes)
    {
        var copy = data.ToArray();
        for (var i = 0; i < bytes; i++)
        {
            copy[_random.Next(Math.Min(skip, copy.Length - 1), copy.Length)] = (byte)_random.Next(256);
        }

        return copy;
    }

    private byte[] Noise(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    public IEnumerable<BadInputCase> All(Server server) =>
        [.. Images(), .. Models(), .. Messages(server), .. Manifests(), .. CommandLines(), .. AiCsdRequests(server)];
}
