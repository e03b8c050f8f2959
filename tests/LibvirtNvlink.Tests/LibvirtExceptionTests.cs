using LibvirtNvlink.Libvirt;

namespace LibvirtNvlink.Tests;

/// <summary>
/// Which libvirt failures are retried: decided by code, domain and errno. The messages here are German on
/// purpose (as libvirt-l10n gives them under LANG=de_DE.UTF-8): the answer must not depend on them.
/// </summary>
public class LibvirtExceptionTests
{
    private const int ENOENT = 2;
    private const int EPERM = 1;
    private const int EACCES = 13;
    private const int ECONNREFUSED = 111;
    private const int FromQemu = 10;
    private const int FromTest = 12;

    public static TheoryData<string, int, int, int, bool> Cases => new()
    {
        { "socket not there yet", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, ENOENT, true },
        { "daemon refusing connections while it restarts", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, ECONNREFUSED, true },
        { "remote driver lost its socket", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Remote, ENOENT, true },
        { "socket permission denied", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, EACCES, false },
        { "operation not permitted", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, EPERM, false },
        { "a file QEMU's driver cannot open", LibvirtErrorCode.SystemError, FromQemu, ENOENT, false },
        { "RPC failure", LibvirtErrorCode.Rpc, LibvirtErrorDomain.Rpc, 0, true },
        { "connection closed under us", LibvirtErrorCode.InvalidConn, LibvirtErrorDomain.Remote, 0, true },
        { "no driver yet (daemon still starting)", LibvirtErrorCode.NoConnect, 0, 0, true },
        { "authentication failed", LibvirtErrorCode.AuthFailed, LibvirtErrorDomain.Remote, 0, false },
        { "authentication unavailable", LibvirtErrorCode.AuthUnavailable, LibvirtErrorDomain.Remote, 0, false },
        { "access denied by ACL", LibvirtErrorCode.AccessDenied, 55, 0, false },
        { "bad XML", LibvirtErrorCode.XmlError, FromTest, 0, false },
        { "no such domain", LibvirtErrorCode.NoDomain, FromQemu, 0, false },
        { "read-only connection", LibvirtErrorCode.OperationDenied, 0, 0, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transience_follows_code_domain_and_errno(string what, int code, int domain, int errno, bool transient)
    {
        // A German message that contains none of the English words an older classifier looked for.
        var e = new LibvirtException("virConnectOpen", code, domain, "Socket-Erstellung fehlgeschlagen: Keine Berechtigung", errno);
        Assert.True(transient == e.IsTransient, $"{what}: expected {(transient ? "transient" : "permanent")}");
    }

    [Fact]
    public void The_same_fault_is_classified_the_same_whatever_the_language()
    {
        var english = new LibvirtException("open", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, "Failed to connect socket: Permission denied", EACCES);
        var german = new LibvirtException("open", LibvirtErrorCode.SystemError, LibvirtErrorDomain.Rpc, "Socket-Erstellung fehlgeschlagen: Keine Berechtigung", EACCES);
        Assert.False(english.IsTransient);
        Assert.False(german.IsTransient);
    }
}
