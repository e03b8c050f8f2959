using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>const char *virDomainGetName(virDomainPtr domain): owned by the domain object.</summary>
    [LibraryImport(Library, EntryPoint = "virDomainGetName")]
    public static partial nint DomainGetName(LibvirtDomainHandle domain);
}
