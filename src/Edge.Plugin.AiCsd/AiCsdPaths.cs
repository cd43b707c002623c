using System.Runtime.InteropServices;

namespace Edge.Plugin.AiCsd;

/// <summary>What a path names, as <c>lstat</c> tells it.</summary>
internal enum AiCsdEntryKind
{
    Missing,
    RegularFile,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,

    /// <summary>Something exists there, of a kind this platform cannot tell (only off Linux).</summary>
    Other,
}

/// <summary>
/// Keeps a request's paths inside the allowed roots. A path is resolved the way the kernel walks it:
/// component by component, each symbolic link replaced by its target where it sits (a link to a
/// folder in the middle of a path counts as much as one at its end), and <c>..</c> taken after the
/// links before it, so <c>root/link/../x</c> is the parent of wherever <c>link</c> leads, not
/// <c>root/x</c>. Only the resolved path, which holds no link, is checked and then used; the roots are
/// resolved the same way. Inputs must be regular files: a FIFO would block the worker on open, and a
/// device such as <c>/dev/zero</c> never ends; and at most <c>MaxInputBytes</c> long, told from the
/// file's size before it is opened, so that a request cannot make the worker decode gigabytes.
/// </summary>
internal sealed partial class AiCsdPaths(IEnumerable<string> roots, long maxInputBytes)
{
    // Linux gives up after 40 links in one lookup (ELOOP); a loop of links must end the same way.
    private const int MaxLinks = 40;

    private readonly string[] _configured = [.. roots];

    /// <summary>The input to read: resolved, inside a root, a regular file, and within the size limit.</summary>
    /// <exception cref="AiCsdRequestException">It is outside the roots, missing, not a regular file or too large; the message names the field, the path and why.</exception>
    public string Input(string path, string field)
    {
        var real = Confine(path, field);
        var kind = KindOf(real);
        return kind switch
        {
            AiCsdEntryKind.RegularFile => WithinLimit(path, real, field),
            AiCsdEntryKind.Missing => throw new AiCsdRequestException($"{field} '{Shown(path)}' does not exist{Leads(path, real)}."),
            _ => throw new AiCsdRequestException($"{field} '{Shown(path)}'{Leads(path, real)} is {Describe(kind)}, not a regular file; only regular files are read."),
        };
    }

    private string WithinLimit(string path, string real, string field)
    {
        var length = new FileInfo(real).Length;
        return length <= maxInputBytes
            ? real
            : throw new AiCsdRequestException($"{field} '{Shown(path)}'{Leads(path, real)} is {length} bytes, over the {maxInputBytes}-byte limit for an input ({AiCsdOptions.SectionName}:MaxInputBytes).");
    }

    /// <summary>The folder to write into: resolved, inside a root, and a folder once this returns (created when missing).</summary>
    /// <exception cref="AiCsdRequestException">It is outside the roots or is not a folder; the message names the field and the path.</exception>
    public string OutputFolder(string path, string field)
    {
        var real = Confine(path, field);
        var kind = KindOf(real);
        if (kind is not (AiCsdEntryKind.Directory or AiCsdEntryKind.Missing))
        {
            throw new AiCsdRequestException($"{field} '{Shown(path)}'{Leads(path, real)} is {Describe(kind)}, not a folder.");
        }

        // The resolved path holds no link, so creating it cannot create anything outside the root.
        Directory.CreateDirectory(real);
        return real;
    }

    /// <summary>
    /// The path with every symbolic link, <c>.</c> and <c>..</c> resolved, as <c>realpath -m</c> gives
    /// it: components that do not exist are kept as written (an output folder may not exist yet).
    /// </summary>
    /// <exception cref="AiCsdRequestException">More than 40 links were met (a loop), or a link could not be read.</exception>
    public static string Resolve(string path, string field)
    {
        // Relative paths are taken from the working folder, as open(2) would; no lexical clean-up first,
        // because a ".." after a link means the link target's parent.
        var full = Path.IsPathRooted(path) ? path : Path.Join(Environment.CurrentDirectory, path);
        var root = Path.GetPathRoot(full) ?? Path.DirectorySeparatorChar.ToString();
        var pending = new Stack<string>();
        Push(pending, full[root.Length..]);
        var current = root;
        var links = 0;
        while (pending.TryPop(out var name))
        {
            if (name.Length == 0 || name == ".")
            {
                continue;
            }

            if (name == "..")
            {
                // current holds no link, so its parent is the real parent.
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            var next = Path.Join(current, name);
            string? target;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AiCsdRequestException($"{field} '{Shown(path)}' cannot be resolved at '{Shown(next)}': {e.Message}");
            }

            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new AiCsdRequestException($"{field} '{Shown(path)}' leads through more than {MaxLinks} symbolic links (a loop?).");
            }

            // The target replaces the link where it sits: relative to the link's folder, or from the top.
            Push(pending, target);
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? root;
            }
        }

        return current;
    }

    /// <summary>What <paramref name="path"/> itself is, a link not followed.</summary>
    public static AiCsdEntryKind KindOf(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var buffer = new byte[StatxSize];
                if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) == 0)
                {
                    return (BitConverter.ToUInt16(buffer, StatxModeOffset) & 0xF000) switch
                    {
                        0x8000 => AiCsdEntryKind.RegularFile,
                        0x4000 => AiCsdEntryKind.Directory,
                        0xA000 => AiCsdEntryKind.SymbolicLink,
                        0x1000 => AiCsdEntryKind.Fifo,
                        0x2000 => AiCsdEntryKind.CharacterDevice,
                        0x6000 => AiCsdEntryKind.BlockDevice,
                        0xC000 => AiCsdEntryKind.Socket,
                        _ => AiCsdEntryKind.Other,
                    };
                }

                return Marshal.GetLastPInvokeError() is ENOENT or ENOTDIR ? AiCsdEntryKind.Missing : AiCsdEntryKind.Other;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // A C library older than glibc 2.28 or musl 1.2.5: fall back to what .NET can tell.
            }
        }

        // .NET tells folders and links apart but not files from devices; off Linux that is all there is.
        var info = new FileInfo(path);
        return info.LinkTarget is not null ? AiCsdEntryKind.SymbolicLink
            : Directory.Exists(path) ? AiCsdEntryKind.Directory
            : info.Exists ? AiCsdEntryKind.RegularFile
            : AiCsdEntryKind.Missing;
    }

    private string Confine(string path, string field)
    {
        var real = Resolve(path, field);
        var roots = _configured.Select(r => Resolve(r, AiCsdOptions.SectionName + ":AllowedRoots")).ToArray();
        if (!roots.Any(root => IsInside(real, root)))
        {
            var configured = string.Join(", ", _configured);
            throw new AiCsdRequestException($"{field} '{Shown(path)}'{Leads(path, real)} is outside the allowed roots ({configured}); set {AiCsdOptions.SectionName}:AllowedRoots to allow it.");
        }

        return real;
    }

    private static bool IsInside(string path, string root)
    {
        var prefix = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        return path == root || path.StartsWith(prefix, StringComparison.Ordinal);
    }

    private static void Push(Stack<string> pending, string path)
    {
        var names = path.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (var i = names.Length - 1; i >= 0; i--)
        {
            pending.Push(names[i]);
        }
    }

    private static string Shown(string path) => AiCsdRequest.Preview(path, 300);

    /// <summary>Where a path really leads, when that is not where it says.</summary>
    private static string Leads(string path, string real) =>
        string.Equals(Path.TrimEndingDirectorySeparator(path), real, StringComparison.Ordinal) ? string.Empty : $" (which leads to '{Shown(real)}')";

    private static string Describe(AiCsdEntryKind kind) => kind switch
    {
        AiCsdEntryKind.Directory => "a folder",
        AiCsdEntryKind.RegularFile => "a regular file",
        AiCsdEntryKind.SymbolicLink => "a symbolic link",
        AiCsdEntryKind.Fifo => "a FIFO (named pipe)",
        AiCsdEntryKind.CharacterDevice => "a character device",
        AiCsdEntryKind.BlockDevice => "a block device",
        AiCsdEntryKind.Socket => "a socket",
        _ => "not a file this worker can tell",
    };

    // statx(2): its struct has one layout on every architecture, unlike struct stat.
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
