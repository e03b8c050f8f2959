using LibvirtNvlink.Libvirt;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Calls survive a lost connection: reopen, retry, within the policy's bounds — and only for transient faults.</summary>
public class ReconnectingConnectionTests
{
    private static void Require() => Processes.RequireOrSkip(LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");

    private static readonly Polly.ResiliencePipeline Quick = LibvirtRetry.Pipeline(maxAttempts: 3, firstDelay: TimeSpan.FromMilliseconds(5));

    [Fact]
    public void A_transient_failure_reopens_the_connection_and_runs_the_call_again()
    {
        Require();
        using var link = new ReconnectingConnection("test:///default", readOnly: true, Quick);
        var first = link.Current;
        var calls = 0;
        var domains = link.Call(c =>
        {
            if (++calls == 1) throw new LibvirtException("virConnectListAllDomains", LibvirtErrorCode.Rpc, 7, "End of file while reading data: Input/output error");
            return c.ListDefinedDomains();
        });
        Assert.Equal(2, calls);
        Assert.Equal(1, link.Reconnects);
        Assert.NotSame(first, link.Current);
        Assert.Contains(domains, d => d.Name == "test");
    }

    [Fact]
    public void A_permanent_failure_is_not_retried()
    {
        Require();
        using var link = new ReconnectingConnection("test:///default", readOnly: true, Quick);
        var calls = 0;
        Assert.Throws<LibvirtException>(() => link.Call<int>(_ =>
        {
            calls++;
            throw new LibvirtException("virDomainDefineXMLFlags", LibvirtErrorCode.XmlError, 20, "XML error");
        }));
        Assert.Equal((1, 0), (calls, link.Reconnects));
    }

    [Fact]
    public void A_daemon_that_stays_away_exhausts_the_bounded_attempts()
    {
        Require();
        var opens = 0;
        using var link = new ReconnectingConnection("test:///default", readOnly: true, Quick, (uri, ro) =>
        {
            opens++;
            return opens == 1 ? LibvirtConnection.OpenOnce(uri, ro) : throw new LibvirtException("open", LibvirtErrorCode.SystemError, 7, "Failed to connect socket: No such file or directory");
        });
        var e = Assert.Throws<LibvirtException>(() => link.Call<int>(_ => throw new LibvirtException("call", LibvirtErrorCode.Rpc, 7, "connection closed")));
        Assert.True(e.IsTransient);
        Assert.Equal(3, opens);
    }
}
