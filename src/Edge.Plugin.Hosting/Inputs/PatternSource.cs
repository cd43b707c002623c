using System.Globalization;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// A synthetic camera for development without one: colour bars that move one step per frame, with
/// a frame counter in the top-left corner, paced at a frame rate. <c>pattern://</c> or <c>testsrc</c>,
/// with optional <c>?width=640&amp;height=480&amp;fps=10&amp;frames=100</c> (frames makes it finite).
/// </summary>
internal sealed class PatternSource : IFrameSource, IFrameSourceHealth
{
    private static readonly byte[][] Bars =
    [
        [235, 235, 235], [235, 235, 16], [16, 235, 235], [16, 235, 16],
        [235, 16, 235], [235, 16, 16], [16, 16, 235], [16, 16, 16],
    ];

    private readonly long _frames;
    private readonly TimeSpan _period;
    private readonly long _startTicks = TimeProvider.System.GetTimestamp();
    private long _index;
    private long _lastNs;

    private PatternSource(string description, int width, int height, double fps, long frames)
    {
        Description = description;
        Width = width;
        Height = height;
        _frames = frames;
        _period = TimeSpan.FromSeconds(1 / fps);
    }

    public string Description { get; }

    public int Width { get; }

    public int Height { get; }

    public SourceHealth Health => new(SourceState.Healthy, Interlocked.Read(ref _lastNs), Interlocked.Read(ref _index), 0, 0, 0, null);

    /// <summary>A pattern source for <c>pattern://...</c> or <c>testsrc</c>; null for any other input.</summary>
    /// <exception cref="ArgumentException">A parameter is unknown or out of range; the message names it.</exception>
    public static PatternSource? TryCreate(string input, InputOptions options)
    {
        string query;
        if (input.StartsWith("pattern://", StringComparison.OrdinalIgnoreCase))
        {
            var q = input.IndexOf('?', StringComparison.Ordinal);
            query = q < 0 ? string.Empty : input[(q + 1)..];
        }
        else if (input.Equals("testsrc", StringComparison.OrdinalIgnoreCase) || input.Equals("pattern", StringComparison.OrdinalIgnoreCase))
        {
            query = string.Empty;
        }
        else
        {
            return null;
        }

        var width = options.Width > 0 ? options.Width : 640;
        var height = options.Height > 0 ? options.Height : 480;
        var fps = 10.0;
        var frames = 0L;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (pair[..eq], pair[(eq + 1)..]) : (pair, string.Empty);
            switch (key.ToLowerInvariant())
            {
                case "width":
                    width = Positive(key, value, input);
                    break;
                case "height":
                    height = Positive(key, value, input);
                    break;
                case "fps":
                    fps = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && f <= 1000
                        ? f
                        : throw new ArgumentException($"Input '{input}': fps must be a number from 0 to 1000, not '{value}'.");
                    break;
                case "frames":
                    frames = Positive(key, value, input);
                    break;
                default:
                    throw new ArgumentException($"Input '{input}': unknown pattern parameter '{key}'; use width, height, fps or frames.");
            }
        }

        return new PatternSource(input, width, height, fps, frames);
    }

    public async ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_frames > 0 && _index >= _frames)
        {
            return null;
        }

        // Paced like a camera: frame n is due n periods after the start, however long the plugin took.
        var due = _period * _index;
        var elapsed = TimeProvider.System.GetElapsedTime(_startTicks);
        if (due > elapsed)
        {
            await Task.Delay(due - elapsed, cancellationToken).ConfigureAwait(false);
        }

        var timestamp = Clock.NowNs();
        var frame = Frame.Rent(Width, Height, PixelFormat.Rgb24, timestamp, Description);
        Paint(frame, _index);
        Interlocked.Increment(ref _index);
        Interlocked.Exchange(ref _lastNs, timestamp);
        return frame;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static void Paint(Frame frame, long index)
    {
        var pixels = frame.Pixels;
        var width = frame.Width;
        var row = pixels[..frame.Stride];
        for (var x = 0; x < width; x++)
        {
            var bar = Bars[(int)((((x + index) % width) * Bars.Length) / width)];
            row[x * 3] = bar[0];
            row[(x * 3) + 1] = bar[1];
            row[(x * 3) + 2] = bar[2];
        }

        for (var y = 1; y < frame.Height; y++)
        {
            row.CopyTo(pixels[(y * frame.Stride)..]);
        }

        // The counter: a block whose grey level is the frame number modulo 256, so a test (or a
        // person) can tell consecutive frames apart.
        var block = Math.Min(16, Math.Min(width, frame.Height));
        for (var y = 0; y < block; y++)
        {
            pixels.Slice(y * frame.Stride, block * 3).Fill((byte)(index & 0xFF));
        }
    }

    private static int Positive(string key, string value, string input) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 16384
            ? n
            : throw new ArgumentException($"Input '{input}': {key} must be a whole number from 1 to 16384, not '{value}'.");
}
