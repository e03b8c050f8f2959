using System.Runtime.InteropServices;
using LibvirtNvlink.Libvirt.Interop;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Libvirt;

/// <summary>A defined domain as the product needs it: name and whether it runs.</summary>
public sealed record LibvirtDomainInfo(string Name, bool IsActive);

/// <summary>
/// A connection to libvirt through our own bindings: only what the product calls. Every failure is a
/// <see cref="LibvirtException"/> carrying libvirt's code; libvirt itself prints nothing.
/// </summary>
public sealed class LibvirtConnection : IDisposable
{
    public const uint XmlSecure = 1;
    public const uint XmlInactive = 2;
    public const uint DefineValidate = 1;
    public const uint ListPersistent = 4;

    private static int _errorFuncSet;

    private LibvirtConnection(LibvirtConnectionHandle handle, string uri)
    {
        Handle = handle;
        Uri = uri;
    }

    public LibvirtConnectionHandle Handle { get; }

    public string Uri { get; }

    /// <summary>Opens a connection once, no retry (see <see cref="LibvirtRetry"/> for the retried form).</summary>
    public static unsafe LibvirtConnection OpenOnce(string uri, bool readOnly)
    {
        if (Interlocked.Exchange(ref _errorFuncSet, 1) == 0)
        {
            LibvirtNative.SetErrorFunc(0, &LibvirtNative.IgnoreError);
        }
        var pointer = readOnly ? LibvirtNative.ConnectOpenReadOnly(uri) : LibvirtNative.ConnectOpen(uri);
        if (pointer == 0) throw LibvirtException.FromLastError($"open {uri}");
        var handle = new LibvirtConnectionHandle();
        Marshal.InitHandle(handle, pointer);
        return new LibvirtConnection(handle, uri);
    }

    public LibvirtVersion LibraryVersionOfDaemon()
    {
        if (LibvirtNative.ConnectGetLibVersion(Handle, out var v) < 0) throw LibvirtException.FromLastError("virConnectGetLibVersion");
        return LibvirtVersion.FromNumber(v);
    }

    /// <summary>The hypervisor version the daemon reports (QEMU's, for qemu:// URIs), encoded like libvirt's.</summary>
    public ulong HypervisorVersionNumber()
    {
        if (LibvirtNative.ConnectGetVersion(Handle, out var v) < 0) throw LibvirtException.FromLastError("virConnectGetVersion");
        return v;
    }

    public string Hostname() =>
        LibvirtNative.TakeString(LibvirtNative.ConnectGetHostname(Handle)) ?? throw LibvirtException.FromLastError("virConnectGetHostname");

    public bool IsAlive => LibvirtNative.ConnectIsAlive(Handle) == 1;

    public void SetKeepAlive(int intervalSeconds, uint count)
    {
        if (LibvirtNative.ConnectSetKeepAlive(Handle, intervalSeconds, count) < 0) throw LibvirtException.FromLastError("virConnectSetKeepAlive");
    }

    /// <summary>Every persistent (defined) domain.</summary>
    public IReadOnlyList<LibvirtDomainInfo> ListDefinedDomains() => ListDefinedDomains(p => new LibvirtDomainHandle(p), Describe);

    /// <summary>
    /// Takes ownership of every domain pointer libvirt returned before describing any, so a describe that throws
    /// part-way still frees them all (and the array). The parameters are the seams a test uses to see that.
    /// </summary>
    internal IReadOnlyList<LibvirtDomainInfo> ListDefinedDomains(Func<nint, LibvirtDomainHandle> own, Func<LibvirtDomainHandle, LibvirtDomainInfo> describe)
    {
        var count = LibvirtNative.ConnectListAllDomains(Handle, out var array, ListPersistent);
        if (count < 0) throw LibvirtException.FromLastError("virConnectListAllDomains");
        var domains = new List<LibvirtDomainHandle>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                domains.Add(own(Marshal.ReadIntPtr(array, i * IntPtr.Size)));
            }
            return domains.Select(describe).ToList();
        }
        finally
        {
            foreach (var domain in domains) domain.Dispose();
            LibvirtNative.Free(array);
        }
    }

    /// <returns>Null when no domain has that name.</returns>
    public LibvirtDomainHandle? LookupByName(string name) => Lookup(() => LibvirtNative.DomainLookupByName(Handle, name), $"lookup domain '{name}'");

    public LibvirtDomainHandle? LookupByUuid(string uuid) => Lookup(() => LibvirtNative.DomainLookupByUUIDString(Handle, uuid), $"lookup domain {uuid}");

    public static string GetXml(LibvirtDomainHandle domain, uint flags) =>
        LibvirtNative.TakeString(LibvirtNative.DomainGetXMLDesc(domain, flags)) ?? throw LibvirtException.FromLastError("virDomainGetXMLDesc");

    public static LibvirtDomainInfo Describe(LibvirtDomainHandle domain)
    {
        var name = Marshal.PtrToStringUTF8(LibvirtNative.DomainGetName(domain)) ?? throw LibvirtException.FromLastError("virDomainGetName");
        var active = LibvirtNative.DomainIsActive(domain);
        if (active < 0) throw LibvirtException.FromLastError("virDomainIsActive");
        return new LibvirtDomainInfo(name, active == 1);
    }

    /// <summary>Defines (or redefines) a domain, asking libvirt to validate it against its schema.</summary>
    public LibvirtDomainInfo Define(string xml)
    {
        var pointer = LibvirtNative.DomainDefineXMLFlags(Handle, xml, DefineValidate);
        if (pointer == 0) throw LibvirtException.FromLastError("virDomainDefineXMLFlags");
        using var domain = new LibvirtDomainHandle(pointer);
        return Describe(domain);
    }

    private static LibvirtDomainHandle? Lookup(Func<nint> call, string what)
    {
        var pointer = call();
        if (pointer != 0) return new LibvirtDomainHandle(pointer);
        var error = LibvirtException.FromLastError(what);
        if (error.Code == LibvirtErrorCode.NoDomain) return null;
        throw error;
    }

    public void Dispose() => Handle.Dispose();
}
