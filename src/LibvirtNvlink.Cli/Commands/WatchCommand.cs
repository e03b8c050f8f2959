using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Cli.Commands;

/// <summary>
/// A service for hosts whose domains other tools define (OpenStack Nova regenerates the XML on every hard reboot,
/// resize and migration): on every "defined" event it completes the domain again. Its own redefine raises another
/// event, which finds nothing to do — idempotence is what stops the loop.
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var connect = LibvirtSession.ConnectOption();
        var hostRoot = CommonOptions.HostRoot();
        var memlock = CommonOptions.Memlock();
        var backup = LibvirtSession.BackupDirOption();
        var version = DomainInput.LibvirtVersionOption();
        var cmd = new Command("watch", "Keep NVLink2 domains complete as other tools (re)define them; runs until SIGTERM")
        {
            connect, hostRoot, memlock, backup, version,
        };
        cmd.SetAction(parse => Run(parse.GetValue(connect)!, parse.GetValue(hostRoot)!, MemlockModeNames.Parse(parse.GetValue(memlock)!),
            parse.GetValue(backup)!, parse.GetValue(version)));
        return cmd;
    }

    private static void Log(string message) =>
        Console.Error.WriteLine($"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} libvirt-nvlink watch: {message}");

    private static int Run(string uri, string hostRoot, Transform.MemlockMode memlock, string backupDir, string? version)
    {
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var loop = LibvirtEventLoop.Start();
        // Reconnecting is for as long as it takes; the first connection gives up after the usual bounded retries,
        // so a mistyped URI is an error, not a silent wait.
        var reconnect = LibvirtRetry.Pipeline(maxAttempts: int.MaxValue, firstDelay: TimeSpan.FromSeconds(1), log: Log);
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            LibvirtSession session;
            try
            {
                session = LibvirtSession.Open(uri, false, hostRoot, version, backupDir, Log);
            }
            catch (LibvirtException e) when (first || !e.IsTransient)
            {
                Log($"cannot connect to {uri}: {e.LibvirtMessage}");
                return ExitCodes.Findings;
            }
            catch (LibvirtException)
            {
                reconnect.Execute(token => { token.ThrowIfCancellationRequested(); LibvirtConnection.OpenOnce(uri, false).Dispose(); }, stop.Token);
                continue;
            }
            catch (UsageException e)
            {
                Log(e.Message);
                return ExitCodes.Usage;
            }
            first = false;
            using (session)
            {
                session.Connection.SetKeepAlive(5, 3);
                loop.SubscribeLifecycle(session.Connection);
                var subscribedOn = session.Reconnects;
                Log($"connected to {uri} (libvirt {session.Target.Version}); completing every defined domain once");
                foreach (var d in session.DefinedDomains()) Complete(session, d.Name, memlock, backupDir, hostRoot);
                // A call that reconnected on its own leaves us on a connection without our subscription: start over.
                while (!stop.IsCancellationRequested && session.Reconnects == subscribedOn && session.Connection.IsAlive)
                {
                    if (!loop.Events.TryTake(out var ev, 500)) continue;
                    if (ev.IsDefined) Complete(session, ev.Domain, memlock, backupDir, hostRoot);
                }
                if (!stop.IsCancellationRequested) Log($"lost the connection to {uri}; reconnecting");
            }
        }
        Log("stopped (SIGTERM)");
        return ExitCodes.Ok;
    }

    private static void Complete(LibvirtSession session, string name, Transform.MemlockMode memlock, string backupDir, string hostRoot)
    {
        try
        {
            // The host can change under a long-running service (drivers rebound, GPUs reset): read it each time.
            var fresh = session.WithHost(DomainInput.Host(hostRoot));
            var current = fresh.CurrentDefinition(name, null);
            if (current is null) return;
            var result = fresh.Transform(current, memlock);
            if (!result.Changed) return;
            var saved = fresh.Backup(current);
            var defined = fresh.Define(result.Xml);
            Log($"completed domain '{name}' for NVLink2 (previous definition in {saved}){(defined.IsActive ? "; running: takes effect at next boot" : "")}");
        }
        catch (Exception e) when (e is LibvirtException or Transform.TransformException or DomainXmlException or UsageException or IOException)
        {
            Log($"domain '{name}' left as it is: {e.Message}");
        }
    }
}
