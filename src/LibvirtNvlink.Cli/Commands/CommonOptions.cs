using System.CommandLine;
using LibvirtNvlink.Transform;

namespace LibvirtNvlink.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> HostRoot() => new("--host-root")
    {
        Description = "Read this directory as the host root instead of / (a simulated host, see simulate-host)",
        DefaultValueFactory = _ => "/",
    };

    public static Option<string> Memlock()
    {
        var o = new Option<string>("--memlock")
        {
            Description = "auto: write <hard_limit> only when the target libvirt's own limit falls short (NVLink2: libvirt < 5.3; Grace: iommufd-charged BARs, RAM pinned more often than libvirt counts); write: always; never",
            DefaultValueFactory = _ => "auto",
        };
        o.AcceptOnlyFromAmong([.. MemlockModeNames.All]);
        return o;
    }

    public static Option<string> GraceLayout()
    {
        var o = new Option<string>("--grace-layout")
        {
            Description = "Grace GPUs: expander (a pcie-expander-bus per host SMMU on the GPUs' NUMA cell, iommufd, an accelerated SMMUv3), " +
                          "flat (on the default pcie-root), or auto (the default: expander where the target libvirt, QEMU and host support all of it)",
            DefaultValueFactory = _ => "auto",
        };
        o.AcceptOnlyFromAmong([.. GracePciLayoutNames.All]);
        return o;
    }
}
