using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

internal static partial class LibcInterop
{
    private const int F_OK = 0;

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AccessNative(string path, int mode);

    /// <summary>
    /// access(F_OK): exactly libvirt's virFileExists. .NET's File.Exists answers true for a dangling symlink,
    /// which is the wrong answer for "does this of_node property exist".
    /// </summary>
    public static bool Exists(string path) => AccessNative(path, F_OK) == 0;
}
