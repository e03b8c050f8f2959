using System.Diagnostics;
using System.Text;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Golden domains made definable on this machine, and a running `watch`.</summary>
public static class TestDomains
{
    /// <summary>
    /// A golden GPU domain as this machine can define it: TCG (no KVM here), managed='no' (libvirt must not try to
    /// rebind simulated devices), renamed, without the golden UUID so several copies can coexist.
    /// </summary>
    public static string GpuDomainXml(string golden, string name) => File.ReadAllText(Path.Combine(GoldenCase.Directory, golden))
        .Replace("<domain type='kvm'>", "<domain type='qemu'>", StringComparison.Ordinal)
        .Replace("managed='yes'", "managed='no'", StringComparison.Ordinal)
        .Replace("<name>gpu1</name>", $"<name>{name}</name>", StringComparison.Ordinal)
        .Replace("<uuid>5f3c1b0e-2a47-4c7e-9d6e-1c2b3a4d5e6f</uuid>\n", "", StringComparison.Ordinal)
        .Replace("<source file='/var/lib/libvirt/images/gpu1.qcow2'/>", "<source file='/dev/null'/>", StringComparison.Ordinal);

    /// <summary>Writes <see cref="GpuDomainXml"/> into the daemon's directory and returns the file.</summary>
    public static string GpuDomainFile(PrivateLibvirtd libvirtd, string golden, string name)
    {
        var file = Path.Combine(libvirtd.Directory, name + ".xml");
        File.WriteAllText(file, GpuDomainXml(golden, name));
        return file;
    }
}

/// <summary>`libvirt-nvlink watch` as a background process against a private libvirtd, its log collected.</summary>
public sealed class WatchProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public WatchProcess(HookedLibvirtd libvirtd)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { CliRunner.CliDll, "watch", "--connect", libvirtd.Uri, "--host-root", libvirtd.SimulatedHost,
                     "--backup-dir", Path.Combine(libvirtd.Directory, "backups") })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string Log { get { lock (_log) return _log.ToString(); } }

    public Process Process => _process;

    /// <summary>SIGTERM, as systemd stops it.</summary>
    public bool Terminate(TimeSpan wait)
    {
        Processes.Run("/bin/kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return _process.WaitForExit(wait);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
