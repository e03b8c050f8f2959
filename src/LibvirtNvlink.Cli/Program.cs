using System.CommandLine;
using System.CommandLine.Invocation;
using LibvirtNvlink.Cli.Commands;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

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
        foreach (var command in root.Subcommands)
        {
            if (command.Action is SynchronousCommandLineAction action) command.Action = new FailureMappingAction(command.Name, action);
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"libvirt-nvlink: {e.Message}");
            Console.Error.WriteLine("Run 'libvirt-nvlink --help' for usage.");
            return ExitCodes.Usage;
        }
        return parse.Invoke();
    }

    /// <summary>
    /// The one table from an exception a command lets out to its exit code and the line that reports it. Null for
    /// any other exception: that is a bug, and it goes to System.CommandLine's handler with its stack trace.
    /// </summary>
    public static CommandFailure? Failure(string command, Exception e) => e switch
    {
        // Input we cannot use, a host root we cannot read, a file we cannot read or write: nothing was written.
        UsageException or DomainXmlException or TransformException or HostRootException or HostLayoutException
            or IOException or UnauthorizedAccessException => new CommandFailure(ExitCodes.Usage, e.Message),
        // check could not look at anything, as with unreadable input; the others ran and libvirt refused.
        LibvirtException l when command == "check" => new CommandFailure(ExitCodes.Usage, l.Message),
        LibvirtException l when command == "define" =>
            new CommandFailure(ExitCodes.Findings, $"libvirt refused: {l.LibvirtMessage} (error {l.Code}). Nothing was defined."),
        LibvirtException l => new CommandFailure(ExitCodes.Findings, l.Message),
        _ => null,
    };

    /// <summary>Runs a command's action and reports the failures <see cref="Failure"/> knows, with its exit code.</summary>
    private sealed class FailureMappingAction(string command, SynchronousCommandLineAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            try
            {
                return inner.Invoke(parseResult);
            }
            catch (Exception e) when (Failure(command, e) is { } failure)
            {
                Console.Error.WriteLine($"libvirt-nvlink {command}: {failure.Message}");
                return failure.ExitCode;
            }
        }
    }
}
