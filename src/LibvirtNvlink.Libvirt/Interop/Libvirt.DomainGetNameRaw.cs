using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>virDomainGetName on a domain libvirt lends to an event callback (not ours to free).</summary>
    [LibraryImport(Library, EntryPoint = "virDomainGetName")]
    public static partial nint DomainGetNameRaw(nint domain);
}
