using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>
    /// int virConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr dom, int eventID,
    /// virConnectDomainEventGenericCallback cb, void *opaque, virFreeCallback freecb).
    /// </summary>
    [LibraryImport(Library, EntryPoint = "virConnectDomainEventRegisterAny")]
    public static unsafe partial int ConnectDomainEventRegisterAny(
        LibvirtConnectionHandle conn, nint domain, int eventId, nint callback, nint opaque, nint freeCallback);
}
