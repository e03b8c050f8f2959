using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virDomainFree(virDomainPtr domain).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainFree")]
    public static partial int DomainFree(nint domain);
}
