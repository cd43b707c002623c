using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Edge.Storage.Caching;

/// <summary>
/// Starts the kernel writing a download to disk while it is still arriving, so the fsync before the
/// rename has only the tail left to flush. Without it all 200 MiB of a model sat dirty in the page cache
/// and that final fsync cost 66-84 ms, most of the gap to plain <c>curl -o</c> (which never flushes).
/// Linux only; anywhere else, or where the call is refused, it does nothing and the fsync does it all.
/// </summary>
internal sealed partial class EarlyWriteback(SafeFileHandle file)
{
    // Large enough that the per-call cost vanishes, small enough that writeback overlaps most of the transfer.
    // Waiting on the previous window as well (SYNC_FILE_RANGE_WAIT_BEFORE, 8 MiB) measured no faster than
    // no early writeback at all: it stalls the writer behind the disk.
    private const long Window = 16 << 20;

    private const uint StartWrite = 2; // SYNC_FILE_RANGE_WRITE: queue the range, do not wait

    private bool _enabled = OperatingSystem.IsLinux();
    private long _start;

    /// <summary>Called after bytes up to <paramref name="end"/> were written, from one writer at a time.</summary>
    public void Written(long end)
    {
        if (!_enabled)
        {
            return;
        }

        if (end < _start)
        {
            // The file was truncated to start the download over.
            _start = 0;
        }

        if (end - _start < Window)
        {
            return;
        }

        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (sync_file_range((int)file.DangerousGetHandle(), _start, end - _start, StartWrite) != 0)
            {
                // ENOSYS, EINVAL (a file system without it), or anything else: the final fsync still
                // flushes everything and reports a real disk error, so give up on the early start.
                _enabled = false;
                return;
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }

        _start = end;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);
}
