using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>What the hook checks before it trusts a file: its type, owner, permission bits and size.</summary>
public readonly record struct FileStatus(int Type, UnixFileMode Mode, uint Owner, long Size)
{
    public const int Regular = 0x8000;
    public const int Directory = 0x4000;
    public const int SymbolicLink = 0xA000;
    public const int Fifo = 0x1000;
    public const int CharacterDevice = 0x2000;
    public const int Socket = 0xC000;
    public const int BlockDevice = 0x6000;

    public string TypeName => Type switch
    {
        Regular => "a regular file",
        Directory => "a directory",
        SymbolicLink => "a symbolic link",
        Fifo => "a FIFO",
        CharacterDevice => "a character device",
        BlockDevice => "a block device",
        Socket => "a socket",
        _ => "of an unknown type",
    };
}

internal static partial class LibcInterop
{
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeModeUidSize = 0x1 | 0x2 | 0x8 | 0x200;
    private const int StatxUidOffset = 20;
    private const int StatxSizeOffset = 40;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxDescriptorNative(FileDescriptorHandle fd, string path, int flags, uint mask, byte* buffer);

    /// <summary>statx(2) of an open file (AT_EMPTY_PATH): what was opened, not what the path names now.</summary>
    public static unsafe FileStatus Status(FileDescriptorHandle fd, string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (StatxDescriptorNative(fd, "", AtEmptyPath, StatxTypeModeUidSize, buffer) != 0)
        {
            throw new ErrnoException("statx", path, Marshal.GetLastPInvokeError());
        }
        return Decode(buffer);
    }

    /// <summary>statx(2) of a path without following a final symlink (lstat), or null when it does not exist.</summary>
    public static unsafe FileStatus? StatusNoFollow(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (StatxNative(AT_FDCWD, path, AtSymlinkNoFollow, StatxTypeModeUidSize, buffer) != 0)
        {
            var e = Marshal.GetLastPInvokeError();
            if (e is ErrnoException.ENOENT or ErrnoException.ENOTDIR) return null;
            throw new ErrnoException("statx", path, e);
        }
        return Decode(buffer);
    }

    private static unsafe FileStatus Decode(byte* buffer)
    {
        var mode = *(ushort*)(buffer + StatxModeOffset);
        return new FileStatus(mode & S_IFMT, (UnixFileMode)(mode & 0xFFF), *(uint*)(buffer + StatxUidOffset), *(long*)(buffer + StatxSizeOffset));
    }
}
