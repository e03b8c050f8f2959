using LibvirtNvlink.Libvirt;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>virConnectListAllDomains hands over one reference per domain: every one is freed, whatever fails.</summary>
public class ListDefinedDomainsTests
{
    [Fact]
    public void A_describe_that_fails_part_way_still_frees_every_domain_libvirt_returned()
    {
        Processes.RequireOrSkip(LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: false);
        foreach (var name in new[] { "leak-a", "leak-b", "leak-c" })
        {
            c.Define($"<domain type='test'><name>{name}</name><memory>1048576</memory><os><type>hvm</type></os></domain>");
        }
        var owned = new List<LibvirtDomainHandle>();
        var described = 0;
        var e = Assert.Throws<InvalidOperationException>(() => c.ListDefinedDomains(
            p =>
            {
                var h = new LibvirtDomainHandle(p);
                owned.Add(h);
                return h;
            },
            d => ++described == 2 ? throw new InvalidOperationException("describe failed") : LibvirtConnection.Describe(d)));
        Assert.Equal("describe failed", e.Message);
        Assert.True(owned.Count >= 4, $"only {owned.Count} of the listed domains were taken over"); // "test" and the three above
        Assert.All(owned, h => Assert.True(h.IsClosed, "a domain reference was not freed"));
    }
}
