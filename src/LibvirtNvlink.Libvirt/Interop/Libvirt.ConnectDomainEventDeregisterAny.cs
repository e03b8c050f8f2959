using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID).</summary>
    [LibraryImport(Library, EntryPoint = "virConnectDomainEventDeregisterAny")]
    public static partial int ConnectDomainEventDeregisterAny(LibvirtConnectionHandle conn, int callbackId);
}
