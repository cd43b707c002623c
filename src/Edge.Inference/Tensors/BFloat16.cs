namespace Edge.Inference;

/// <summary>
/// The bfloat16 format: the upper 16 bits of a 32-bit float (8 exponent bits, 7 mantissa bits).
/// Only storage and conversion; compute in float.
/// </summary>
public readonly record struct BFloat16
{
    /// <summary>Wraps raw bits.</summary>
    /// <param name="bits">The 16 bits, sign first.</param>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bits.</summary>
    public ushort Bits { get; }

    /// <summary>Rounds a float to the nearest bfloat16, ties to even; NaN stays NaN.</summary>
    public static BFloat16 FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new BFloat16((ushort)((bits >> 16) | 0x40));
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <summary>The exact float this value stands for.</summary>
    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    /// <summary>Rounds a float to bfloat16.</summary>
    public static explicit operator BFloat16(float value) => FromSingle(value);

    /// <summary>Widens to float, exactly.</summary>
    public static implicit operator float(BFloat16 value) => value.ToSingle();

    /// <inheritdoc />
    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
