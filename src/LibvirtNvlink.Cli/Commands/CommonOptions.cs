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
}
