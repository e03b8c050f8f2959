using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virErrorPtr virGetLastError(void): thread-local, owned by libvirt.</summary>
    [LibraryImport(Library, EntryPoint = "virGetLastError")]
    public static partial nint GetLastError();
}
