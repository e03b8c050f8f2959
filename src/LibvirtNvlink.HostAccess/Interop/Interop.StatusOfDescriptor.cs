using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

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
        return DecodeStatx(buffer);
    }

    internal static unsafe FileStatus DecodeStatx(byte* buffer)
    {
        var mode = *(ushort*)(buffer + StatxModeOffset);
        return new FileStatus(mode & S_IFMT, (UnixFileMode)(mode & 0xFFF), *(uint*)(buffer + StatxUidOffset), *(long*)(buffer + StatxSizeOffset));
    }
}
