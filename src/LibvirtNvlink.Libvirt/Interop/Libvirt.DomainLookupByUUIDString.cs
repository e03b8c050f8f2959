using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn, const char *uuid).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainLookupByUUIDString", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DomainLookupByUUIDString(LibvirtConnectionHandle conn, string uuid);
}
