using System.CommandLine;

namespace LibvirtNvlink.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> HostRoot() => new("--host-root")
    {
        Description = "Read this directory as the host root instead of / (a simulated host, see simulate-host)",
        DefaultValueFactory = _ => "/",
    };
}
