using System.Runtime.InteropServices;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Libvirt.Interop;

namespace LibvirtNvlink.Tests;

/// <summary>
/// Our struct _virError and the error numbers and domains we classify by, against libvirt's own
/// include/libvirt/virterror.h (libvirt-dev), compiled with gcc.
/// </summary>
public class LibvirtErrorAbiTests
{
    private static readonly string[] Fields = ["code", "domain", "message", "level", "conn", "dom", "str1", "str2", "str3", "int1", "int2", "net"];

    private static readonly (string Name, int Ours)[] Constants =
    [
        ("VIR_ERR_NO_CONNECT", LibvirtErrorCode.NoConnect),
        ("VIR_ERR_INVALID_CONN", LibvirtErrorCode.InvalidConn),
        ("VIR_ERR_XML_ERROR", LibvirtErrorCode.XmlError),
        ("VIR_ERR_OPERATION_DENIED", LibvirtErrorCode.OperationDenied),
        ("VIR_ERR_SYSTEM_ERROR", LibvirtErrorCode.SystemError),
        ("VIR_ERR_RPC", LibvirtErrorCode.Rpc),
        ("VIR_ERR_NO_DOMAIN", LibvirtErrorCode.NoDomain),
        ("VIR_ERR_AUTH_FAILED", LibvirtErrorCode.AuthFailed),
        ("VIR_ERR_OPERATION_INVALID", LibvirtErrorCode.OperationInvalid),
        ("VIR_ERR_CONFIG_UNSUPPORTED", LibvirtErrorCode.ConfigUnsupported),
        ("VIR_ERR_ACCESS_DENIED", LibvirtErrorCode.AccessDenied),
        ("VIR_ERR_XML_INVALID_SCHEMA", LibvirtErrorCode.XmlInvalidSchema),
        ("VIR_ERR_AUTH_UNAVAILABLE", LibvirtErrorCode.AuthUnavailable),
        ("VIR_FROM_RPC", LibvirtErrorDomain.Rpc),
        ("VIR_FROM_REMOTE", LibvirtErrorDomain.Remote),
    ];

    private static Dictionary<string, ulong> CompileAgainstVirterrorH()
    {
        const string header = "/usr/include/libvirt/virterror.h";
        if (!File.Exists(header))
        {
            Assert.True(Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") != "1", "libvirt-dev must be installed");
            Assert.Skip("libvirt-dev (virterror.h) is not installed; scripts/test.sh installs it");
        }
        var lines = Fields.Select(f => $"    P(\"offsetof_{f}\", offsetof(virError, {f}));")
            .Concat(Constants.Select(c => $"    P(\"{c.Name}\", {c.Name});"));
        var program = $$"""
            #include <stdio.h>
            #include <stddef.h>
            #include <libvirt/virterror.h>
            #define P(name, value) printf("%s=%llu\n", name, (unsigned long long)(value))
            int main(void) {
                P("sizeof", sizeof(virError));
            {{string.Join("\n", lines)}}
                return 0;
            }
            """;
        return VfioAbiTests.Compile(program);
    }

    [Fact]
    public void The_virError_struct_matches_virterror_h_field_for_field()
    {
        var c = CompileAgainstVirterrorH();
        Assert.Equal(c["sizeof"], (ulong)Marshal.SizeOf<VirError>());
        foreach (var field in Fields)
        {
            var ours = (ulong)Marshal.OffsetOf<VirError>(char.ToUpperInvariant(field[0]) + field[1..]);
            Assert.True(c[$"offsetof_{field}"] == ours, $"virError.{field}: virterror.h says offset {c[$"offsetof_{field}"]}, VirError says {ours}");
        }
    }

    [Fact]
    public void The_error_numbers_and_domains_we_classify_by_match_virterror_h()
    {
        var c = CompileAgainstVirterrorH();
        foreach (var (name, ours) in Constants)
        {
            Assert.True(c[name] == (ulong)ours, $"{name}: virterror.h says {c[name]}, we say {ours}");
        }
    }
}
