using LibvirtNvlink.Libvirt;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// libvirt translates its messages (libvirt-l10n), so whether a failure is worth retrying must come from its
/// error code, domain and errno. These run real faults with German messages. The test methods are synchronous:
/// the thread's locale and libvirt's last error are both per thread.
/// </summary>
public class LibvirtErrorLocaleTests
{
    private const string German = "de_DE.UTF-8";
    private const string MissingSocket = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

    private static ThreadLocale UseGerman()
    {
        Processes.RequireOrSkip(LibvirtLibrary.InstalledVersion() is not null, "libvirt.so.0 (libvirt0)");
        Processes.RequireOrSkip(File.Exists("/usr/share/locale/de/LC_MESSAGES/libvirt.mo"), "libvirt's German messages (libvirt-l10n)");
        var locale = ThreadLocale.TryUse(German);
        Processes.RequireOrSkip(locale is not null, $"the {German} locale (locales; scripts/install-test-deps.sh generates it)");
        return locale!;
    }

    private static LibvirtException Fault(Action call) => Assert.Throws<LibvirtException>(call);

    [Fact]
    public void A_missing_daemon_socket_is_transient_in_German_too()
    {
        var english = Fault(() => LibvirtConnection.OpenOnce(MissingSocket, readOnly: true));
        LibvirtException german;
        using (UseGerman())
        {
            german = Fault(() => LibvirtConnection.OpenOnce(MissingSocket, readOnly: true));
        }
        // The same fault, told in another language: the test only means something if the message really changed.
        Assert.NotEqual(english.LibvirtMessage, german.LibvirtMessage);
        // libvirt's own words; the errno text comes from GLib, which caches the first translation it made.
        Assert.Contains("Socket-Erstellung", german.LibvirtMessage, StringComparison.Ordinal);
        Assert.Equal((LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, 2), (german.Code, german.ErrorDomain, german.SystemErrno));
        Assert.True(german.IsTransient, german.Message);
    }

    [Fact]
    public void A_missing_domain_is_permanent_in_German_too()
    {
        using var c = LibvirtConnection.OpenOnce("test:///default", readOnly: true);
        LibvirtException german;
        using (UseGerman())
        {
            Assert.Equal(0, LibvirtNvlink.Libvirt.Interop.LibvirtNative.DomainLookupByName(c.Handle, "no-such-domain-de"));
            german = LibvirtException.FromLastError("virDomainLookupByName");
        }
        Assert.Contains("Domain nicht gefunden", german.LibvirtMessage, StringComparison.Ordinal);
        Assert.Equal(LibvirtErrorCode.NoDomain, german.Code);
        Assert.False(german.IsTransient, german.Message);
    }
}
