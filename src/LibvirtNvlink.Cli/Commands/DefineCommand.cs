using System.CommandLine;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

internal static class DefineCommand
{
    public static Command Create()
    {
        var file = DomainInput.File();
        var connect = LibvirtSession.ConnectOption();
        var hostRoot = CommonOptions.HostRoot();
        var memlock = CommonOptions.Memlock();
        var graceLayout = CommonOptions.GraceLayout();
        var backup = LibvirtSession.BackupDirOption();
        var version = DomainInput.LibvirtVersionOption();
        var cmd = new Command("define", "Complete a domain for NVLink2 on this host, then define it through the libvirt API")
        {
            file, connect, hostRoot, memlock, graceLayout, backup, version,
        };
        cmd.SetAction(parse =>
        {
            {
                var xml = DomainInput.Read(parse.GetValue(file)!);
                // Refuse bad input before touching libvirt.
                var (name, uuid) = LibvirtSession.Identity(xml);
                using var session = LibvirtSessionScope.Open(parse.GetValue(connect)!, false, parse.GetValue(hostRoot)!, parse.GetValue(version), parse.GetValue(backup)!);
                var result = session.Value.Transform(xml, MemlockModeNames.Parse(parse.GetValue(memlock)!), GracePciLayoutNames.Parse(parse.GetValue(graceLayout)!));
                foreach (var m in result.Messages) Console.Error.WriteLine(m);
                var xmlToDefine = result.Xml;
                if (session.Value.CurrentDefinition(name, uuid) is { } current)
                {
                    var saved = session.Value.Backup(current);
                    Console.Error.WriteLine($"domain '{name}' exists: its current definition is saved in {saved}");
                    xmlToDefine = LibvirtSession.AdoptUuid(xmlToDefine, current);
                }
                var defined = session.Value.Define(xmlToDefine);
                Console.Out.WriteLine($"Domain '{defined.Name}' defined{(defined.IsActive ? " (it is running: the new definition applies at its next boot)" : "")}.");
                return ExitCodes.Ok;
            }
        });
        return cmd;
    }
}

/// <summary>Disposes the session's connection.</summary>
internal sealed class LibvirtSessionScope(LibvirtSession value) : IDisposable
{
    public LibvirtSession Value { get; } = value;

    public static LibvirtSessionScope Open(string uri, bool readOnly, string hostRoot, string? version, string backupDir) =>
        new(LibvirtSession.Open(uri, readOnly, hostRoot, version, backupDir, m => Console.Error.WriteLine(m)));

    public void Dispose() => Value.Dispose();
}
