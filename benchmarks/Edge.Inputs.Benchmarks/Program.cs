// Input pipeline benchmark: measured, not asserted. Run through run.sh, which also measures tjbench
// on the same image so the figures are ratios against a reference taken on the same machine, same run.
//   decode <image.jpg> <seconds>     JPEG decode + resize to 224x224, frames/s (and full-size decode)
//   mjpeg <url> <seconds>            frames/s and managed bytes per frame from a live MJPEG stream
using System.Diagnostics;
using System.Globalization;
using Edge.Plugin;
using Edge.Plugin.Hosting.Codecs;
using Edge.Plugin.Hosting.Inputs;

const int Side = 224;
const int Warmup = 30;
var mode = args.Length > 0 ? args[0] : "";
var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 5;
var model = new byte[Side * Side * 3];

switch (mode)
{
    case "decode":
        var jpeg = File.ReadAllBytes(args[1]);
        var scaled = Measure(seconds, () =>
        {
            using var frame = ImageDecoder.Decode(jpeg, "bench", 0, new FrameSize(Side, Side));
            Resize224.Into(frame, model);
        });
        var decodeOnly = Measure(seconds, () =>
        {
            using var frame = ImageDecoder.Decode(jpeg, "bench", 0, new FrameSize(Side, Side));
        });
        var full = Measure(seconds, () =>
        {
            using var frame = ImageDecoder.Decode(jpeg, "bench", 0);
        });
        Console.WriteLine(FormattableString.Invariant($"decode_resize_224_fps {scaled:F1}"));
        Console.WriteLine(FormattableString.Invariant($"decode_scaled_fps {decodeOnly:F1}"));
        Console.WriteLine(FormattableString.Invariant($"decode_full_fps {full:F1}"));
        break;

    case "mjpeg":
        var options = new InputOptions { Width = Side, Height = Side };
        var frames = 0L;
        var startAllocated = 0L;
        var clock = new Stopwatch();
        await foreach (var frame in FrameCapture.RecordAsync(args[1], TimeSpan.FromSeconds(seconds + 1), options).ConfigureAwait(false))
        {
            using (frame)
            {
                Resize224.Into(frame, model);
                // The first frames warm up the JIT and the pools; measure after them.
                if (++frames == Warmup)
                {
                    startAllocated = GC.GetTotalAllocatedBytes(precise: true);
                    clock.Start();
                }
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - startAllocated;
        var measured = frames - Warmup;
        Console.WriteLine(FormattableString.Invariant($"mjpeg_fps {measured / clock.Elapsed.TotalSeconds:F1}"));
        Console.WriteLine(FormattableString.Invariant($"mjpeg_managed_bytes_per_frame {(double)allocated / Math.Max(1, measured):F0}"));
        break;

    default:
        Console.Error.WriteLine("usage: decode <image.jpg> <seconds> | mjpeg <url> <seconds>");
        return 2;
}

return 0;

static double Measure(double seconds, Action work)
{
    var warm = Stopwatch.StartNew();
    while (warm.Elapsed.TotalSeconds < 1)
    {
        work();
    }

    var count = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        work();
        count++;
    }

    return count / clock.Elapsed.TotalSeconds;
}

/// <summary>
/// A bilinear resize of an RGB frame to 224x224 with fixed-point weights and sampling tables kept
/// per source size, standing in for a model's preprocessing.
/// </summary>
internal static class Resize224
{
    private const int Side = 224;
    private static readonly int[] X0 = new int[Side], X1 = new int[Side], Wx = new int[Side];
    private static readonly int[] Y0 = new int[Side], Y1 = new int[Side], Wy = new int[Side];
    private static (int Width, int Height) s_tables;

    public static void Into(Frame frame, Span<byte> destination)
    {
        if (s_tables != (frame.Width, frame.Height))
        {
            Table(frame.Width, X0, X1, Wx);
            Table(frame.Height, Y0, Y1, Wy);
            s_tables = (frame.Width, frame.Height);
        }

        ReadOnlySpan<byte> pixels = frame.Pixels;
        var stride = frame.Stride;
        for (var y = 0; y < Side; y++)
        {
            var top = pixels.Slice(Y0[y] * stride, stride);
            var bottom = pixels.Slice(Y1[y] * stride, stride);
            var wy = Wy[y];
            var row = destination.Slice(y * Side * 3, Side * 3);
            for (var x = 0; x < Side; x++)
            {
                int a = X0[x] * 3, b = X1[x] * 3, wx = Wx[x], o = x * 3;
                for (var c = 0; c < 3; c++)
                {
                    var t = (top[a + c] << 8) + ((top[b + c] - top[a + c]) * wx);
                    var u = (bottom[a + c] << 8) + ((bottom[b + c] - bottom[a + c]) * wx);
                    row[o + c] = (byte)(((t << 8) + ((u - t) * wy) + (1 << 15)) >> 16);
                }
            }
        }
    }

    private static void Table(int size, int[] first, int[] second, int[] weight)
    {
        var scale = (double)size / Side;
        for (var i = 0; i < Side; i++)
        {
            var f = Math.Max(0, ((i + 0.5) * scale) - 0.5);
            first[i] = Math.Min((int)f, size - 1);
            second[i] = Math.Min(first[i] + 1, size - 1);
            weight[i] = (int)((f - first[i]) * 256);
        }
    }
}
