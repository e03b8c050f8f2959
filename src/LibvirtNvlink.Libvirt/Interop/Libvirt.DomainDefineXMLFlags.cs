using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virDomainPtr virDomainDefineXMLFlags(virConnectPtr conn, const char *xml, unsigned int flags).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainDefineXMLFlags", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DomainDefineXMLFlags(LibvirtConnectionHandle conn, string xml, uint flags);
}
