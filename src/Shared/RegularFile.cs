using System.Runtime.InteropServices;

namespace Edge.Plugin;

/// <summary>
/// Checks that a path names a regular file of bounded size before anything opens it. Opening a FIFO
/// for reading blocks until some writer appears, and a character device such as /dev/zero never ends,
/// so both must be told apart by their type (statx, which follows symlinks) and never opened. Compiled
/// into each library that reads user-named files (Edge.Plugin.Hosting, Edge.Inference, Edge.Storage).
/// </summary>
internal static partial class RegularFile
{
    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 0x1;
    private const uint StatxSize = 0x200;
    private const int StatxBufferSize = 256;
    private const int ModeOffset = 28;
    private const int SizeOffset = 40;
    private static bool _statxMissing;

    /// <summary>
    /// Returns the file's size in bytes, or throws naming the file and what it is instead.
    /// </summary>
    /// <param name="path">The path as the user gave it.</param>
    /// <param name="what">What the file is for, capitalised: "Input file", "Model file".</param>
    /// <param name="maxBytes">The largest size accepted.</param>
    /// <param name="limit">The setting that raises <paramref name="maxBytes"/>, named as the user sets it.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The path is no regular file, or the file is over the limit.</exception>
    public static long Check(string path, string what, long maxBytes, string limit)
    {
        var full = Path.GetFullPath(path);
        var (type, size) = Stat(full);
        var named = Describe(full);
        switch (type)
        {
            case FileKind.Missing:
                throw new FileNotFoundException($"{what} not found: {named}", full);
            case FileKind.Regular:
                break;
            default:
                throw new IOException($"{what} {named} is {Article(type)}, not a regular file; refusing to read it.");
        }

        return size > maxBytes
            ? throw new IOException($"{what} {named} is {size} bytes, over the limit of {maxBytes} bytes set by {limit}.")
            : size;
    }

    /// <summary>
    /// Reads a whole file after <see cref="Check"/>, never more than the size it had when checked, so a
    /// file that grows while it is read cannot take more memory than the limit allowed.
    /// </summary>
    public static async Task<byte[]> ReadAllBytesAsync(string path, string what, long maxBytes, string limit, CancellationToken cancellationToken)
    {
        var size = Check(path, what, maxBytes, limit);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            var data = new byte[size];
            var read = await stream.ReadAtLeastAsync(data, data.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return read == data.Length ? data : data[..read];
        }
    }

    private static string Describe(string full)
    {
        try
        {
            // The user named the link; whoever fixes it needs to see where it led.
            return File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target ? $"{full} (a link to {target.FullName})" : full;
        }
        catch (IOException)
        {
            return full;
        }
    }

    private static string Article(FileKind type) => type switch
    {
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO (named pipe), which would block until something writes to it",
        FileKind.CharacterDevice => "a character device, which may never end",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    private static (FileKind Type, long Size) Stat(string path)
    {
        if (OperatingSystem.IsLinux() && !Volatile.Read(ref _statxMissing))
        {
            try
            {
                return Statx(path);
            }
            catch (EntryPointNotFoundException)
            {
                // A libc older than glibc 2.28 or musl 1.2.5: fall back to what .NET itself can tell.
                Volatile.Write(ref _statxMissing, true);
            }
        }

        if (Directory.Exists(path))
        {
            return (FileKind.Directory, 0);
        }

        var info = new FileInfo(path);
        return info.Exists ? (FileKind.Regular, info.Length) : (FileKind.Missing, 0);
    }

    private static unsafe (FileKind Type, long Size) Statx(string path)
    {
        var buffer = stackalloc byte[StatxBufferSize];
        if (StatxNative(AtCurrentDirectory, path, 0, StatxType | StatxSize, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // ENOENT or ENOTDIR: nothing there; anything else (EACCES) is left to the open that follows, which reports it.
            return errno is 2 or 20 ? (FileKind.Missing, 0) : (FileKind.Regular, 0);
        }

        var mode = *(ushort*)(buffer + ModeOffset) & 0xF000;
        var size = *(long*)(buffer + SizeOffset);
        var type = mode switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return (type, size);
    }

    // struct statx has one layout on every Linux architecture, unlike struct stat.
    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int StatxNative(int directoryFd, string path, int flags, uint mask, byte* buffer);

    private enum FileKind
    {
        Missing,
        Regular,
        Directory,
        Fifo,
        CharacterDevice,
        BlockDevice,
        Socket,
        Other,
    }
}
