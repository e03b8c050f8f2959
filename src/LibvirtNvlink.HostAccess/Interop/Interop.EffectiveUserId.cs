using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    /// <summary>geteuid(2): never fails.</summary>
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint EffectiveUserId();
}
