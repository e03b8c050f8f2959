using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags): the caller frees.</summary>
    [LibraryImport(Library, EntryPoint = "virDomainGetXMLDesc")]
    public static partial nint DomainGetXMLDesc(LibvirtDomainHandle domain, uint flags);
}
