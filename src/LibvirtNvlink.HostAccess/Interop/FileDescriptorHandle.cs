using Microsoft.Win32.SafeHandles;

namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>A file descriptor from open(2), closed exactly once, by the runtime's SafeHandle machinery.</summary>
public sealed class FileDescriptorHandle : SafeHandleMinusOneIsInvalid
{
    public FileDescriptorHandle()
        : base(ownsHandle: true)
    {
    }

    internal FileDescriptorHandle(int fd)
        : base(ownsHandle: true) => SetHandle(fd);

    protected override bool ReleaseHandle() => LibcInterop.Close((int)handle) == 0;
}
