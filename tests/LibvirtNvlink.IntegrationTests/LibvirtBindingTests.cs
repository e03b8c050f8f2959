using LibvirtNvlink.Libvirt;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>Our bindings against libvirt's in-process test driver (no daemon): test:///default.</summary>
public class LibvirtBindingTests
{
    private static void Require() => Processes.RequireOrSkip(LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");

    [Fact]
    public void The_test_driver_opens_reports_versions_and_lists_its_domain()
    {
        Require();
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: false);
        Assert.True(c.LibraryVersionOfDaemon() >= new Versions.LibvirtVersion(5, 0, 0));
        Assert.NotEmpty(c.Hostname());
        var test = Assert.Single(c.ListDefinedDomains(), d => d.Name == "test");
        Assert.True(test.IsActive);
        using var handle = c.LookupByName("test");
        Assert.NotNull(handle);
        Assert.Contains("<name>test</name>", LibvirtConnection.GetXml(handle!, LibvirtConnection.XmlInactive | LibvirtConnection.XmlSecure), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_domain_is_null_not_an_exception()
    {
        Require();
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: true);
        Assert.Null(c.LookupByName("no-such-domain"));
        Assert.Null(c.LookupByUuid("00000000-1111-2222-3333-444444444444"));
        Assert.NotNull(c.LookupByUuid("6695eb01-f6a4-8304-79aa-97f2502e193f")); // the test driver's own "test" domain
    }

    [Fact]
    public void Define_round_trips_and_invalid_XML_is_a_typed_error_with_libvirts_message()
    {
        Require();
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: false);
        var defined = c.Define("<domain type='test'><name>bound</name><memory>1048576</memory><os><type>hvm</type></os></domain>");
        Assert.Equal(new LibvirtDomainInfo("bound", false), defined);
        var e = Assert.Throws<LibvirtException>(() => c.Define("<domain type='test'><name>bad</name><memory>lots</memory></domain>"));
        Assert.NotEqual(0, e.Code);
        Assert.False(e.IsTransient);
        Assert.Contains("virDomainDefineXMLFlags", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_only_connection_cannot_define()
    {
        Require();
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: true);
        var e = Assert.Throws<LibvirtException>(() => c.Define("<domain type='test'><name>ro</name><memory>1048576</memory><os><type>hvm</type></os></domain>"));
        Assert.Equal(LibvirtErrorCode.OperationDenied, e.Code);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public void A_daemon_that_is_not_there_is_transient_and_retried_a_bounded_number_of_times()
    {
        Require();
        var attempts = new List<string>();
        var pipeline = LibvirtRetry.Pipeline(maxAttempts: 3, firstDelay: TimeSpan.FromMilliseconds(10), log: attempts.Add);
        var e = Assert.Throws<LibvirtException>(() => LibvirtRetry.Open("qemu+unix:///system?socket=/nonexistent/libvirt-sock", readOnly: true, pipeline));
        Assert.True(e.IsTransient, e.Message);
        Assert.Equal(2, attempts.Count);
    }
}
