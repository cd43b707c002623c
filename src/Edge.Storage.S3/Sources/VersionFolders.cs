using System.Globalization;

namespace Edge.Storage.S3;

/// <summary>
/// Picks the newest version among folder names that are timestamps. Pipelines name versions in many
/// ways (<c>2024-05-01T12:30:00Z</c>, <c>20240501-123000</c>, Unix seconds), so names are read as
/// times rather than compared as text; names that are not times are ignored.
/// </summary>
internal static class VersionFolders
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH-mm-ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd_HH-mm-ss", "yyyy-MM-dd-HH-mm-ss", "yyyy-MM-dd_HH:mm:ss", "yyyy-MM-dd'T'HHmmss", "yyyyMMdd'T'HHmmss'Z'", "yyyyMMdd'T'HHmmss",
        "yyyyMMddHHmmss", "yyyyMMdd-HHmmss", "yyyyMMdd_HHmmss", "yyyyMMddHHmm", "yyyy-MM-dd", "yyyyMMdd",
    ];

    public static bool TryParse(string name, out DateTimeOffset time)
    {
        if (name.Length is 10 or 13 && name.All(char.IsAsciiDigit) && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
        {
            time = name.Length == 10 ? DateTimeOffset.FromUnixTimeSeconds(epoch) : DateTimeOffset.FromUnixTimeMilliseconds(epoch);
            return true;
        }

        return DateTimeOffset.TryParseExact(name, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    /// <summary>The newest timestamped name, or null when none is a timestamp. Equal times fall back to ordinal order.</summary>
    public static string? Newest(IEnumerable<string> names)
    {
        string? best = null;
        var bestTime = DateTimeOffset.MinValue;
        foreach (var name in names)
        {
            if (!TryParse(name, out var time))
            {
                continue;
            }

            if (best is null || time > bestTime || (time == bestTime && string.CompareOrdinal(name, best) > 0))
            {
                (best, bestTime) = (name, time);
            }
        }

        return best;
    }
}
