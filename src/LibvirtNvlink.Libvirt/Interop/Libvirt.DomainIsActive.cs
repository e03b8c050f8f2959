using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virDomainIsActive(virDomainPtr domain).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainIsActive")]
    public static partial int DomainIsActive(LibvirtDomainHandle domain);
}
