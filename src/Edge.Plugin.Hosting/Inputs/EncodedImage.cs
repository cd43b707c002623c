using System.Buffers;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>An encoded image as it came off the wire, in a pooled buffer, with the time its bytes arrived.</summary>
internal readonly record struct EncodedImage(byte[] Buffer, int Length, long TimestampNs)
{
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public void Release() => ArrayPool<byte>.Shared.Return(Buffer);
}
