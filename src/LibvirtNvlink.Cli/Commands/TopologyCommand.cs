using System.CommandLine;
using LibvirtNvlink.Cli.Rendering;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Cli.Commands;

internal static class TopologyCommand
{
    public static Command Create()
    {
        var hostRoot = CommonOptions.HostRoot();
        var json = new Option<bool>("--json") { Description = "Print the topology as JSON" };
        var dot = new Option<bool>("--dot") { Description = "Print the topology as a Graphviz graph" };
        var cmd = new Command("topology", "Show the host's GPUs, NVLink2 bridges, IOMMU groups and the problems found")
        {
            hostRoot, json, dot,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(json) && parse.GetValue(dot))
            {
                Console.Error.WriteLine("libvirt-nvlink topology: --json and --dot cannot be combined.");
                return ExitCodes.Usage;
            }
            var topology = HostDiscovery.Discover(new HostRoot(parse.GetValue(hostRoot)!));
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                TopologyJson.Write(topology, stdout);
                stdout.WriteByte((byte)'\n');
            }
            else if (parse.GetValue(dot))
            {
                Console.Out.Write(TopologyDot.Render(topology));
            }
            else
            {
                Console.Out.Write(TopologyText.Render(topology));
            }
            return topology.HasErrors ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return cmd;
    }
}
