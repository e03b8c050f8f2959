using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

internal static partial class LibvirtNative
{
    /// <summary>int virEventAddTimeout(int frequency, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff).</summary>
    [LibraryImport(Library, EntryPoint = "virEventAddTimeout")]
    public static partial int EventAddTimeout(int frequencyMs, nint callback, nint opaque, nint freeCallback);
}
