using System.Globalization;

namespace Edge.Plugin;

/// <summary>What a measurement's value holds. Waggle accepts exactly these three.</summary>
public enum MeasurementKind
{
    /// <summary>A 64-bit integer.</summary>
    WholeNumber,

    /// <summary>A 64-bit float.</summary>
    RealNumber,

    /// <summary>A string.</summary>
    Text,
}

/// <summary>A measurement's value: an integer, a float or a string, with no boxing.</summary>
public readonly struct MeasurementValue : IEquatable<MeasurementValue>
{
    private readonly long _integer;
    private readonly double _float;
    private readonly string? _text;

    private MeasurementValue(MeasurementKind kind, long integer, double number, string? text)
    {
        Kind = kind;
        _integer = integer;
        _float = number;
        _text = text;
    }

    /// <summary>Which of the three it holds.</summary>
    public MeasurementKind Kind { get; }

    /// <summary>The integer; valid when <see cref="Kind"/> is WholeNumber.</summary>
    public long AsInt64 => _integer;

    /// <summary>The float; valid when <see cref="Kind"/> is RealNumber.</summary>
    public double AsDouble => _float;

    /// <summary>The string; valid when <see cref="Kind"/> is Text.</summary>
    public string AsString => _text ?? string.Empty;

    /// <summary>An integer value.</summary>
    public static MeasurementValue FromInt64(long value) => new(MeasurementKind.WholeNumber, value, 0, null);

    /// <summary>A float value.</summary>
    public static MeasurementValue FromDouble(double value) => new(MeasurementKind.RealNumber, 0, value, null);

    /// <summary>A string value.</summary>
    public static MeasurementValue FromString(string value) =>
        new(MeasurementKind.Text, 0, 0, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>An integer value.</summary>
    public static implicit operator MeasurementValue(long value) => FromInt64(value);

    /// <summary>A float value.</summary>
    public static implicit operator MeasurementValue(double value) => FromDouble(value);

    /// <summary>A string value.</summary>
    public static implicit operator MeasurementValue(string value) => FromString(value);

    /// <summary>
    /// The value as invariant text, floats in their shortest round-trip form. A float that a
    /// single-precision one widened to (a model's score) is written as that single: 0.9, not 0.8999999761581421.
    /// </summary>
    public override string ToString() => Kind switch
    {
        MeasurementKind.WholeNumber => _integer.ToString(CultureInfo.InvariantCulture),
        MeasurementKind.RealNumber when double.IsFinite(_float) && (double)(float)_float == _float => ((float)_float).ToString("R", CultureInfo.InvariantCulture),
        MeasurementKind.RealNumber => _float.ToString("R", CultureInfo.InvariantCulture),
        _ => AsString,
    };

    /// <inheritdoc />
    public bool Equals(MeasurementValue other) =>
        Kind == other.Kind && _integer == other._integer && _float.Equals(other._float) && string.Equals(_text, other._text, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MeasurementValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, _integer, _float, _text);

    /// <summary>Equality.</summary>
    public static bool operator ==(MeasurementValue left, MeasurementValue right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(MeasurementValue left, MeasurementValue right) => !left.Equals(right);
}

/// <summary>
/// One named value at one time, with string metadata: the unit of data on every platform.
/// Construction enforces Waggle's rules, so a measurement that exists can be published anywhere.
/// </summary>
public sealed class Measurement
{
    /// <summary>The earliest timestamp accepted: 2000-01-01, in nanoseconds. Earlier ones are nearly always seconds or milliseconds by mistake.</summary>
    public const long MinimumTimestampNs = 946706400000000000;

    /// <summary>The longest name accepted.</summary>
    public const int MaximumNameLength = 128;

    private static readonly IReadOnlyDictionary<string, string> NoMeta = new Dictionary<string, string>();

    /// <summary>Creates a measurement, validating name and timestamp.</summary>
    /// <exception cref="ArgumentException">The name or timestamp breaks Waggle's rules; the message names the rule.</exception>
    public Measurement(string name, MeasurementValue value, long timestampNs, IReadOnlyDictionary<string, string>? meta = null, string scope = "all")
    {
        ValidateName(name);
        ValidateTimestamp(timestampNs);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        Name = name;
        Value = value;
        TimestampNs = timestampNs;
        Meta = meta ?? NoMeta;
        Scope = scope;
    }

    /// <summary>Dot-separated name such as <c>env.count.car</c>.</summary>
    public string Name { get; }

    /// <summary>The value.</summary>
    public MeasurementValue Value { get; }

    /// <summary>When it was measured, nanoseconds since the Unix epoch.</summary>
    public long TimestampNs { get; }

    /// <summary>String metadata, such as the camera or model that produced it.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Waggle's routing scope: <c>all</c>, <c>node</c> or <c>beehive</c>.</summary>
    public string Scope { get; }

    /// <summary>
    /// Checks a name against Waggle's rules: at most 128 characters, dot-separated parts of
    /// <c>a-z 0-9 _</c>, and not the reserved <c>upload</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name breaks a rule; the message names it.</exception>
    public static void ValidateName(string name, bool allowReserved = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            throw new ArgumentException("Measurement name is empty.", nameof(name));
        }

        if (name.Length > MaximumNameLength)
        {
            throw new ArgumentException($"Measurement name is {name.Length} characters; at most {MaximumNameLength} are allowed: '{name[..32]}...'.", nameof(name));
        }

        if (!allowReserved && name == "upload")
        {
            throw new ArgumentException("Measurement name 'upload' is reserved for file uploads.", nameof(name));
        }

        foreach (var part in name.Split('.'))
        {
            if (part.Length == 0 || !part.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                throw new ArgumentException($"Measurement name '{name}' has an invalid part '{part}': each dot-separated part must be one or more of a-z, 0-9 and _.", nameof(name));
            }
        }
    }

    /// <summary>Checks that a timestamp is in nanoseconds and not before 2000-01-01.</summary>
    public static void ValidateTimestamp(long timestampNs)
    {
        if (timestampNs < MinimumTimestampNs)
        {
            throw new ArgumentOutOfRangeException(nameof(timestampNs), timestampNs, $"Timestamp {timestampNs} is before 2000-01-01 in nanoseconds; it is probably in seconds or milliseconds. Use nanoseconds since the Unix epoch.");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}={Value}";
}
