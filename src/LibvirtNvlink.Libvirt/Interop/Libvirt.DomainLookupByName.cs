using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainLookupByName", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DomainLookupByName(LibvirtConnectionHandle conn, string name);
}
