using System.Runtime.InteropServices;

namespace LibvirtNvlink.Libvirt.Interop;

/// <summary>
/// struct _virError from include/libvirt/virterror.h, field for field (the deprecated conn/dom/net pointers
/// included, so the offsets after them stay right). Read-only: libvirt owns it. Checked against the header by
/// LibvirtErrorAbiTests, which compiles offsetof() for every field with gcc.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct VirError
{
    /// <summary>virErrorNumber.</summary>
    public readonly int Code;

    /// <summary>virErrorDomain: the part of libvirt that raised it.</summary>
    public readonly int Domain;

    public readonly nint Message;

    public readonly int Level;

    public readonly nint Conn;

    public readonly nint Dom;

    public readonly nint Str1;

    public readonly nint Str2;

    public readonly nint Str3;

    /// <summary>For VIR_ERR_SYSTEM_ERROR, the errno of the failed system call (virReportSystemErrorFull).</summary>
    public readonly int Int1;

    public readonly int Int2;

    public readonly nint Net;
}
