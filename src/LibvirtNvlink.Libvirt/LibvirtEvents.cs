using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using LibvirtNvlink.Libvirt.Interop;

namespace LibvirtNvlink.Libvirt;

/// <summary>A domain lifecycle event (VIR_DOMAIN_EVENT_*), by domain name.</summary>
public sealed record DomainLifecycleEvent(string Domain, int Event, int Detail)
{
    public const int Defined = 0;
    public const int Undefined = 1;
    public const int Started = 2;

    public bool IsDefined => Event == Defined;
}

/// <summary>
/// libvirt's default event loop on a dedicated thread, and lifecycle events of a connection delivered into a
/// queue — callbacks do no libvirt work themselves, so they never block the loop that carries the RPC.
/// </summary>
public sealed class LibvirtEventLoop : IDisposable
{
    private const int LifecycleEventId = 0;
    private static int _registered;
    private readonly Thread _thread;
    private readonly GCHandle _self;
    private readonly int _timer;
    private volatile bool _stopping;

    private LibvirtEventLoop()
    {
        _self = GCHandle.Alloc(this);
        // A periodic timer wakes virEventRunDefaultImpl, so the thread notices when it should stop.
        unsafe
        {
            _timer = LibvirtNative.EventAddTimeout(200, (nint)(delegate* unmanaged<int, nint, void>)&OnTick, GCHandle.ToIntPtr(_self), 0);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "libvirt event loop" };
        _thread.Start();
    }

    public BlockingCollection<DomainLifecycleEvent> Events { get; } = new();

    /// <summary>Registers libvirt's default event implementation (once per process, before any connection) and runs it.</summary>
    public static LibvirtEventLoop Start()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0 && LibvirtNative.EventRegisterDefaultImpl() < 0)
        {
            throw LibvirtException.FromLastError("virEventRegisterDefaultImpl");
        }
        return new LibvirtEventLoop();
    }

    /// <returns>The callback id, for deregistration.</returns>
    public unsafe int SubscribeLifecycle(LibvirtConnection connection)
    {
        var id = LibvirtNative.ConnectDomainEventRegisterAny(connection.Handle, 0, LifecycleEventId,
            (nint)(delegate* unmanaged<nint, nint, int, int, nint, void>)&OnLifecycle, GCHandle.ToIntPtr(_self), 0);
        if (id < 0) throw LibvirtException.FromLastError("virConnectDomainEventRegisterAny");
        return id;
    }

    private void Run()
    {
        while (!_stopping)
        {
            if (LibvirtNative.EventRunDefaultImpl() < 0) Thread.Sleep(100);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnTick(int timer, nint opaque)
    {
    }

    [UnmanagedCallersOnly]
    private static void OnLifecycle(nint connection, nint domain, int @event, int detail, nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not LibvirtEventLoop loop) return;
        var name = Marshal.PtrToStringUTF8(LibvirtNative.DomainGetNameRaw(domain));
        if (name is not null && !loop.Events.IsAddingCompleted) loop.Events.Add(new DomainLifecycleEvent(name, @event, detail));
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(2));
        _ = LibvirtNative.EventRemoveTimeout(_timer);
        Events.CompleteAdding();
        _self.Free();
    }
}
