using LibvirtNvlink.Libvirt.Interop;
using Microsoft.Win32.SafeHandles;

namespace LibvirtNvlink.Libvirt;

/// <summary>A virConnectPtr; closing it is the handle's release.</summary>
public sealed class LibvirtConnectionHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public LibvirtConnectionHandle() : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => LibvirtNative.ConnectClose(handle) >= 0;
}

/// <summary>A virDomainPtr, freed when released.</summary>
public sealed class LibvirtDomainHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public LibvirtDomainHandle() : base(ownsHandle: true)
    {
    }

    internal LibvirtDomainHandle(nint pointer) : base(ownsHandle: true) => SetHandle(pointer);

    protected override bool ReleaseHandle() => LibvirtNative.DomainFree(handle) >= 0;
}
