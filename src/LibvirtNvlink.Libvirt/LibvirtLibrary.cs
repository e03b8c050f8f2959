using LibvirtNvlink.Libvirt.Interop;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Libvirt;

/// <summary>Facts about the libvirt library installed on this host.</summary>
public static class LibvirtLibrary
{
    /// <summary>The installed libvirt's version (virGetVersion), or null when libvirt.so.0 is not installed.</summary>
    public static LibvirtVersion? InstalledVersion()
    {
        try
        {
            return LibvirtNative.GetVersion(out var lib, null, out _) == 0 ? LibvirtVersion.FromNumber(lib) : null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The libvirt a computation targets: the option if given, else this host's, else the assumption.</summary>
    public static TargetLibvirt ResolveTarget(LibvirtVersion? option)
    {
        if (option is { } o) return new TargetLibvirt(o, TargetLibvirt.FromOption);
        if (InstalledVersion() is { } v) return new TargetLibvirt(v, TargetLibvirt.FromHost);
        return new TargetLibvirt(LibvirtVersion.Assumed, TargetLibvirt.FromAssumption);
    }
}
