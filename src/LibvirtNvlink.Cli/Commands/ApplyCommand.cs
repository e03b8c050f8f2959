using System.CommandLine;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Text;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

internal static class ApplyCommand
{
    public static Command Create()
    {
        var connect = LibvirtSession.ConnectOption();
        var hostRoot = CommonOptions.HostRoot();
        var domain = new Option<string?>("--domain") { Description = "Apply to this domain" };
        var all = new Option<bool>("--all") { Description = "Apply to every defined domain" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would change (a diff per domain); define nothing" };
        var memlock = CommonOptions.Memlock();
        var backup = LibvirtSession.BackupDirOption();
        var version = DomainInput.LibvirtVersionOption();
        var cmd = new Command("apply", "Re-transform and redefine defined domains that need it (for domains defined by other tools)")
        {
            connect, hostRoot, domain, all, dryRun, memlock, backup, version,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(domain) is null == !parse.GetValue(all))
            {
                Console.Error.WriteLine("libvirt-nvlink apply: give --domain NAME or --all.");
                return ExitCodes.Usage;
            }
            using var scope = LibvirtSessionScope.Open(parse.GetValue(connect)!, parse.GetValue(dryRun), parse.GetValue(hostRoot)!, parse.GetValue(version), parse.GetValue(backup)!);
            var names = parse.GetValue(domain) is { } n ? [n] : scope.Value.DefinedDomains().Select(d => d.Name).ToList();
            var failed = 0;
            foreach (var name in names)
            {
                failed += ApplyOne(scope.Value, name, parse.GetValue(dryRun), MemlockModeNames.Parse(parse.GetValue(memlock)!)) ? 0 : 1;
            }
            return failed == 0 ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return cmd;
    }

    /// <returns>False when the domain could not be completed or defined; the reason is on stderr.</returns>
    public static bool ApplyOne(LibvirtSession session, string name, bool dryRun, MemlockMode memlock)
    {
        var current = session.CurrentDefinition(name, null, secure: !dryRun);
        if (current is null)
        {
            Console.Error.WriteLine($"domain '{name}' is not defined.");
            return false;
        }
        TransformResult result;
        try
        {
            result = session.Transform(current, memlock);
        }
        catch (Exception e) when (e is TransformException or DomainXmlException)
        {
            Console.Error.WriteLine($"domain '{name}' cannot be completed: {e.Message}");
            return false;
        }
        if (!result.Changed)
        {
            Console.Out.WriteLine($"domain '{name}': nothing to do.");
            return true;
        }
        if (dryRun)
        {
            Console.Out.Write(UnifiedDiff.Create(current, result.Xml, $"{name} (defined)", $"{name} (after apply)"));
            return true;
        }
        var saved = session.Backup(current);
        var defined = session.Define(result.Xml);
        Console.Out.WriteLine($"domain '{name}': completed and redefined (previous definition in {saved})" +
                              (defined.IsActive ? "; it is running, so the change takes effect at its next boot." : "."));
        return true;
    }
}
