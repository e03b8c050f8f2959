using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// One line per decision, written directly (a logging framework costs tens of milliseconds of start-up in a
/// process libvirtd runs for every lifecycle event): to syslog through /dev/log, or appended to a file.
/// Logging never fails the hook.
/// </summary>
public sealed class HookLog(bool toSyslog, string filePath)
{
    private const int Facility = 3; // daemon

    public void Write(string domain, string op, string message, bool error = false)
    {
        var line = $"domain '{domain}' {op}: {message}";
        try
        {
            if (toSyslog && TrySyslog(line, error)) return;
            // Created 0640 in a directory created 0750, never through a symlink; one planted there is refused.
            TrustedFiles.Append(filePath, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} libvirt-nvlink-hook[{Environment.ProcessId}]: {line}\n")));
        }
        catch (UntrustedFileException refused)
        {
            // The line and why the file was refused go to syslog instead, so the operator learns both.
            Fallback($"{line} (not written to the log file: {refused.Message})", error: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            // Nowhere to log is not a reason to fail a guest's start.
        }
    }

    private static void Fallback(string line, bool error)
    {
        try
        {
            TrySyslog(line, error);
        }
        catch (SocketException)
        {
            // No syslog either.
        }
    }

    private static bool TrySyslog(string line, bool error)
    {
        if (!File.Exists("/dev/log") && !Directory.Exists("/dev/log")) return false;
        var pri = Facility * 8 + (error ? 3 : 6);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint("/dev/log"));
        socket.Send(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"<{pri}>libvirt-nvlink-hook[{Environment.ProcessId}]: {line}")));
        return true;
    }
}
