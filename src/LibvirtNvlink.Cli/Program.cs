using System.CommandLine;
using LibvirtNvlink.Cli.Commands;

namespace LibvirtNvlink.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args);

    public static int Run(string[] args)
    {
        var root = new RootCommand("libvirt-nvlink: NVLink2 and Grace GPU passthrough for libvirt/KVM hosts")
        {
            TopologyCommand.Create(),
            SimulateHostCommand.Create(),
            TransformCommand.Create(),
            ExplainCommand.Create(),
            InstallHookCommand.Create(),
            DefineCommand.Create(),
            CheckCommand.Create(),
            ApplyCommand.Create(),
            WatchCommand.Create(),
            SnapshotCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"libvirt-nvlink: {e.Message}");
            Console.Error.WriteLine("Run 'libvirt-nvlink --help' for usage.");
            return ExitCodes.Usage;
        }
        return parse.Invoke();
    }
}
