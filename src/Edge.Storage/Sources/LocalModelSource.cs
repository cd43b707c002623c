using System.Security.Cryptography;
using Edge.Plugin;

namespace Edge.Storage;

/// <summary>
/// Serves plain paths and <c>file://</c> URIs. When the reference pins a SHA-256, the file is hashed
/// and refused on a mismatch, so a plugin never runs a model other than the one its author named.
/// </summary>
public sealed class LocalModelSource : IModelSource
{
    /// <inheritdoc />
    public IReadOnlyCollection<string> Schemes { get; } = ["file"];

    /// <inheritdoc />
    public async ValueTask<string> GetLocalPathAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var path = Path.GetFullPath(reference.LocalPath);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file not found: {path}" + (Directory.Exists(path) ? " (that is a folder; name the .onnx file in it)" : string.Empty), path);
        }

        // Hashing reads the file: a FIFO would block the start and a device would never end. The size
        // limit is the loader's (Inference:MaxModelBytes); here only the kind of file matters.
        _ = RegularFile.Check(path, "Model file", long.MaxValue, "no setting");

        if (reference.Sha256 is { } expected)
        {
            var actual = await HashAsync(path, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Model {path} has SHA-256 {actual}, but the reference pins {expected}. Refusing to run it.");
            }
        }

        return path;
    }

    internal static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(hash);
        }
    }
}
