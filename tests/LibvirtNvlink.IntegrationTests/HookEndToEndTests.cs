using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

[CollectionDefinition(Name)]
public sealed class HookedLibvirtdCollection : ICollectionFixture<HookedLibvirtd>
{
    public const string Name = "libvirtd with the hook and a simulated NVLink2 host";
}

/// <summary>The installed hook as libvirtd really runs it, on a simulated AC922 libvirtd itself sees.</summary>
[Collection(HookedLibvirtdCollection.Name)]
public class HookEndToEndTests(HookedLibvirtd libvirtd)
{
    private void Require() => Processes.RequireOrSkip(libvirtd.Available && PublishedHook.ExitCode == 0, "a private libvirtd (root) and the published hook");

    private const string PlainGuest = """
        <domain type='qemu'>
          <name>NAME</name>
          <memory unit='MiB'>512</memory>
          <vcpu>1</vcpu>
          <os><type arch='ppc64' machine='pseries'>hvm</type></os>
          <devices>
            <emulator>/usr/bin/qemu-system-ppc64</emulator>
            <console type='pty'/>
          </devices>
        </domain>
        """;

    private string Define(string name, string xml)
    {
        var file = Path.Combine(libvirtd.Directory, name + ".xml");
        File.WriteAllText(file, xml);
        var r = libvirtd.Virsh("define", file);
        Assert.True(r.ExitCode == 0, r.Output);
        return name;
    }

    [Fact]
    public void A_plain_pseries_guest_starts_and_stops_and_the_hook_sees_every_event()
    {
        Require();
        var name = Define("plain-e2e", PlainGuest.Replace("NAME", "plain-e2e", StringComparison.Ordinal));
        try
        {
            var start = libvirtd.Virsh("start", name);
            Assert.True(start.ExitCode == 0, start.Output + string.Join("\n", libvirtd.DaemonLog.TakeLast(20)));
            Assert.Contains("running", libvirtd.Virsh("domstate", name).Stdout, StringComparison.Ordinal);
            var destroy = libvirtd.Virsh("destroy", name);
            Assert.True(destroy.ExitCode == 0, destroy.Output);

            string[] expected = [$"{name} prepare begin -", $"{name} start begin -", $"{name} started begin -", $"{name} stopped end -", $"{name} release end -"];
            Assert.Equal(expected, libvirtd.RecordedCalls.Where(c => c.StartsWith(name + " ", StringComparison.Ordinal)));
            Assert.Equal(expected, libvirtd.HookCalls.Where(c => c.StartsWith(name + " ", StringComparison.Ordinal)));
            var seen = File.ReadAllText(Path.Combine(libvirtd.Directory, "seen", $"{name}-prepare-begin.xml"));
            Assert.Contains($"<name>{name}</name>", seen, StringComparison.Ordinal);
            Assert.Contains("machine='pseries", seen, StringComparison.Ordinal);
            // None of its business: the hook decided in its triage and never parsed the domain or wrote a log line.
            Assert.DoesNotContain($"domain '{name}'", libvirtd.HookLog, StringComparison.Ordinal);
        }
        finally
        {
            libvirtd.Virsh("destroy", name);
            libvirtd.Virsh("undefine", name);
        }
    }

    [Fact]
    public void A_GPU_domain_lacking_its_bridges_is_refused_at_prepare_with_the_hooks_message()
    {
        Require();
        var name = Define("gpu-incomplete", TestDomains.GpuDomainXml("gpu1-write-in.xml", "gpu-incomplete"));
        try
        {
            var start = libvirtd.Virsh("start", name);
            Assert.NotEqual(0, start.ExitCode);
            Assert.Contains("libvirt-nvlink refused to start 'gpu-incomplete'", start.Stderr, StringComparison.Ordinal);
            Assert.Contains("without its NVLink2 bridge(s) 0006:00:00.0, 0006:00:00.1", start.Stderr, StringComparison.Ordinal);
            Assert.Contains("domain 'gpu-incomplete' prepare begin: refused", libvirtd.HookLog, StringComparison.Ordinal);
        }
        finally
        {
            libvirtd.Virsh("undefine", name);
        }
    }

    [Fact]
    public void The_transformed_domain_passes_the_hooks_prepare_and_any_later_failure_is_libvirts_or_QEMUs()
    {
        Require();
        var name = Define("gpu-complete", TestDomains.GpuDomainXml("gpu1-write-out.xml", "gpu-complete"));
        try
        {
            // libvirt itself sees the simulated NV2 bridges: its dumpxml keeps them on the PHB the transformer chose.
            var dump = libvirtd.Virsh("dumpxml", name).Stdout;
            Assert.Contains("<address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/>", dump, StringComparison.Ordinal);
            var start = libvirtd.Virsh("start", name);
            libvirtd.Virsh("destroy", name);
            Assert.DoesNotContain("libvirt-nvlink", start.Output, StringComparison.Ordinal);
            Assert.Contains("domain 'gpu-complete' prepare begin: preflight passed", libvirtd.HookLog, StringComparison.Ordinal);
        }
        finally
        {
            libvirtd.Virsh("undefine", name);
        }
    }
}

/// <summary>libvirtd restarted under a running guest calls reconnect; a failing hook there would kill the guest.</summary>
public class HookReconnectTests : IDisposable
{
    private readonly HookedLibvirtd _libvirtd = new();

    public void Dispose()
    {
        _libvirtd.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Reconnect_never_kills_a_running_guest()
    {
        Processes.RequireOrSkip(_libvirtd.Available && PublishedHook.ExitCode == 0, "a private libvirtd (root) and the published hook");
        const string name = "reconnect-e2e";
        var file = Path.Combine(_libvirtd.Directory, name + ".xml");
        File.WriteAllText(file, """
            <domain type='qemu'><name>reconnect-e2e</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
              <os><type arch='ppc64' machine='pseries'>hvm</type></os>
              <devices><emulator>/usr/bin/qemu-system-ppc64</emulator><console type='pty'/></devices>
            </domain>
            """);
        Assert.Equal(0, _libvirtd.Virsh("define", file).ExitCode);
        var start = _libvirtd.Virsh("start", name);
        Assert.True(start.ExitCode == 0, start.Output);

        _libvirtd.Restart();

        // libvirtd reconnects to running guests in threads of their own, after its socket is back: wait for it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!_libvirtd.HookCalls.Contains($"{name} reconnect begin -") && DateTime.UtcNow < deadline) Thread.Sleep(200);
        Assert.Contains($"{name} reconnect begin -", _libvirtd.HookCalls);
        Assert.Contains("running", _libvirtd.Virsh("domstate", name).Stdout, StringComparison.Ordinal);
        _libvirtd.Virsh("destroy", name);
        _libvirtd.Virsh("undefine", name);
    }
}
