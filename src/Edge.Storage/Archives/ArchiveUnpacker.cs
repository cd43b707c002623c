using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;

namespace Edge.Storage.Archives;

/// <summary>
/// Unpacks <c>.zip</c>, <c>.tar.gz</c>/<c>.tgz</c> and <c>.tar</c> models. Every entry name is checked
/// before it touches the disk: absolute paths, <c>..</c> segments, links and device entries are
/// refused (zip-slip), and the limits count bytes really written. Unpacking goes to a temporary folder
/// renamed into place, so a failed or interrupted unpack leaves nothing behind that looks complete.
/// </summary>
internal static class ArchiveUnpacker
{
    private static readonly string[] ModelExtensions = [".onnx", ".ort"];

    public static bool IsArchive(string fileName) =>
        fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)
        || fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)
        || fileName.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
        || fileName.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);

    /// <summary>Unpacks the archive into <paramref name="destination"/> unless an earlier unpack already completed there.</summary>
    /// <exception cref="InvalidDataException">An entry is unsafe or a limit is exceeded; the message names the entry.</exception>
    public static string UnpackOnce(string archive, string destination, ArchiveLimits limits)
    {
        if (Directory.Exists(destination))
        {
            return destination;
        }

        var temp = $"{destination}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(temp);
        try
        {
            Unpack(archive, temp, limits);
            try
            {
                Directory.Move(temp, destination);
            }
            catch (IOException) when (Directory.Exists(destination))
            {
                // Another process finished the same unpack first; its result is identical.
                Directory.Delete(temp, recursive: true);
            }

            return destination;
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    public static void Unpack(string archive, string destination, ArchiveLimits limits)
    {
        var budget = new Budget(archive, limits);
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        if (archive.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            using var zip = ZipFile.OpenRead(archive);
            foreach (var entry in zip.Entries)
            {
                var isDirectory = entry.FullName.EndsWith('/');
                var target = Target(root, entry.FullName, archive, budget);
                if (isDirectory)
                {
                    Directory.CreateDirectory(target);
                    continue;
                }

                // Unix symlinks in zips carry S_IFLNK in the high bits of the external attributes.
                if (((entry.ExternalAttributes >> 16) & 0xF000) == 0xA000)
                {
                    throw new InvalidDataException($"Archive {archive}: entry '{entry.FullName}' is a symbolic link; links are refused.");
                }

                using var source = entry.Open();
                Write(source, target, entry.FullName, budget);
            }

            return;
        }

        using var file = File.OpenRead(archive);
        using Stream stream = archive.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(stream);
        while (tar.GetNextEntry() is { } entry)
        {
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(Target(root, entry.Name, archive, budget));
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    var target = Target(root, entry.Name, archive, budget);
                    if (entry.DataStream is { } data)
                    {
                        Write(data, target, entry.Name, budget);
                    }
                    else
                    {
                        Write(Stream.Null, target, entry.Name, budget);
                    }

                    break;
                case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes:
                    break;
                default:
                    throw new InvalidDataException($"Archive {archive}: entry '{entry.Name}' is a {entry.EntryType}; only files and folders are unpacked (links and devices are refused).");
            }
        }
    }

    /// <summary>The model file in an unpacked folder: <c>model.onnx</c>, else the only <c>.onnx</c>/<c>.ort</c> file.</summary>
    public static string ModelIn(string folder)
    {
        var candidates = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => ModelExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)
            .ToList();
        var preferred = candidates.FirstOrDefault(f => Path.GetFileName(f).Equals("model.onnx", StringComparison.OrdinalIgnoreCase));
        if (preferred is not null)
        {
            return preferred;
        }

        return candidates.Count == 1
            ? candidates[0]
            : throw new InvalidDataException(candidates.Count == 0
                ? $"The archive unpacked to {folder} holds no .onnx or .ort model."
                : $"The archive unpacked to {folder} holds {candidates.Count} models ({string.Join(", ", candidates.Select(c => Path.GetRelativePath(folder, c)))}); name one model.onnx.");
    }

    private static string Target(string root, string name, string archive, Budget budget)
    {
        budget.CountEntry(name);
        var normalised = name.TrimEnd('/');
        if (ObjectKeys.Problem(normalised) is { } problem)
        {
            throw new InvalidDataException($"Archive {archive}: entry '{name}' is refused: {problem}.");
        }

        var full = Path.GetFullPath(Path.Combine(root, normalised));
        return full.StartsWith(root, StringComparison.Ordinal)
            ? full
            : throw new InvalidDataException($"Archive {archive}: entry '{name}' would land outside the unpack folder.");
    }

    private static void Write(Stream source, string target, string name, Budget budget)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            long written = 0;
            int read;
            while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
            {
                written += read;
                budget.CountBytes(name, written, read);
                output.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private sealed class Budget(string archive, ArchiveLimits limits)
    {
        private long _total;
        private int _entries;

        public void CountEntry(string name)
        {
            if (++_entries > limits.MaxEntries)
            {
                throw new InvalidDataException($"Archive {archive} has more than {limits.MaxEntries} entries (Storage:Archives:MaxEntries); refused at '{name}'.");
            }
        }

        public void CountBytes(string name, long entryBytes, int added)
        {
            if (entryBytes > limits.MaxEntryBytes)
            {
                throw new InvalidDataException($"Archive {archive}: entry '{name}' unpacks to more than {limits.MaxEntryBytes} bytes (Storage:Archives:MaxEntryBytes).");
            }

            _total += added;
            if (_total > limits.MaxTotalBytes)
            {
                throw new InvalidDataException($"Archive {archive} unpacks to more than {limits.MaxTotalBytes} bytes (Storage:Archives:MaxTotalBytes); refused at '{name}'.");
            }
        }
    }
}
