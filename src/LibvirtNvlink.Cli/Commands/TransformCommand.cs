using System.CommandLine;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Text;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

internal static class TransformCommand
{
    public static Command Create()
    {
        var file = DomainInput.File();
        var hostRoot = CommonOptions.HostRoot();
        var memlock = CommonOptions.Memlock();
        var undo = new Option<bool>("--undo") { Description = "Remove exactly what an earlier transform added (recorded in <metadata>)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the result atomically to this file instead of standard output" };
        var diff = new Option<bool>("--diff", "--dry-run") { Description = "Print a unified diff of the change instead of the XML; write nothing" };
        var version = DomainInput.LibvirtVersionOption();
        var qemuVersion = DomainInput.QemuVersionOption();
        var graceLayout = CommonOptions.GraceLayout();
        var cmd = new Command("transform", "Complete a domain XML for NVLink2 or Grace GPU passthrough before virsh define")
        {
            file, hostRoot, memlock, undo, output, diff, version, qemuVersion, graceLayout,
        };
        cmd.SetAction(parse =>
        {
            {
                var inputName = parse.GetValue(file)!;
                var xml = DomainInput.Read(inputName);
                TransformResult result;
                if (parse.GetValue(undo))
                {
                    result = DomainTransformer.Undo(xml);
                }
                else
                {
                    var host = DomainInput.Host(parse.GetValue(hostRoot)!);
                    var mode = MemlockModeNames.Parse(parse.GetValue(memlock)!);
                    result = DomainTransformer.Transform(xml, host, new TransformOptions(mode, DomainInput.Target(parse.GetValue(version)),
                        DomainInput.Qemu(parse.GetValue(qemuVersion), xml, parse.GetValue(hostRoot)!), GracePciLayoutNames.Parse(parse.GetValue(graceLayout)!)));
                }
                foreach (var m in result.Messages) Console.Error.WriteLine(m);
                if (parse.GetValue(diff))
                {
                    var name = inputName == "-" ? "stdin" : inputName;
                    Console.Out.Write(UnifiedDiff.Create(xml, result.Xml, name, name + (parse.GetValue(undo) ? " (undone)" : " (transformed)")));
                }
                else if (parse.GetValue(output) is { } path)
                {
                    AtomicFile.WriteAllText(path, result.Xml);
                }
                else
                {
                    Console.Out.Write(result.Xml);
                }
                return ExitCodes.Ok;
            }
        });
        return cmd;
    }
}
