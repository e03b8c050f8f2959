using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>void virSetErrorFunc(void *userData, virErrorFunc handler).</summary>
    [LibraryImport(Library, EntryPoint = "virSetErrorFunc")]
    public static unsafe partial void SetErrorFunc(nint userData, delegate* unmanaged<nint, nint, void> handler);

    /// <summary>
    /// Our error handler does nothing: libvirt's default one prints every error to stderr, which would land in a
    /// hook's or a CLI's output. Errors are read back with virGetLastError and turned into LibvirtException.
    /// </summary>
    [UnmanagedCallersOnly]
    public static void IgnoreError(nint userData, nint error)
    {
    }
}
