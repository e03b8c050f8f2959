using System.Runtime.InteropServices;
using LibvirtNvlink.Libvirt.Interop;

namespace LibvirtNvlink.Libvirt;

/// <summary>libvirt's error numbers the product reacts to (include/libvirt/virterror.h; checked by a gcc test).</summary>
public static class LibvirtErrorCode
{
    public const int NoConnect = 5;
    public const int InvalidConn = 6;
    public const int XmlError = 27;
    public const int OperationDenied = 29;
    public const int SystemError = 38;
    public const int Rpc = 39;
    public const int NoDomain = 42;
    public const int AuthFailed = 45;
    public const int OperationInvalid = 55;
    public const int ConfigUnsupported = 67;
    public const int AccessDenied = 88;
    public const int XmlInvalidSchema = 92;
    public const int AuthUnavailable = 94;
}

/// <summary>libvirt's error domains (virErrorDomain, include/libvirt/virterror.h; checked by a gcc test).</summary>
public static class LibvirtErrorDomain
{
    /// <summary>VIR_FROM_RPC: the client's socket and RPC layer.</summary>
    public const int Rpc = 7;

    /// <summary>VIR_FROM_REMOTE: the remote driver (the client side of a daemon connection).</summary>
    public const int Remote = 13;
}

/// <summary>
/// A failed libvirt call: libvirt's own error code, domain (subsystem), for a system error the errno, the message,
/// and what we called.
/// </summary>
public sealed class LibvirtException(string operation, int code, int domain, string message, int systemErrno = 0)
    : Exception($"{operation}: {message}")
{
    private const int EPERM = 1;
    private const int EACCES = 13;

    public string Operation { get; } = operation;

    public int Code { get; } = code;

    public int ErrorDomain { get; } = domain;

    /// <summary>For <see cref="LibvirtErrorCode.SystemError"/>: the errno libvirt recorded (virError.int1); else 0.</summary>
    public int SystemErrno { get; } = systemErrno;

    /// <summary>For people only: libvirt translates it when LANG is set, so nothing may be decided on it.</summary>
    public string LibvirtMessage { get; } = message;

    /// <summary>
    /// Worth retrying: the daemon is restarting or its socket is not there yet. Not: bad XML, a missing domain,
    /// permission or authentication problems — retrying those only delays the error. Decided on libvirt's code,
    /// domain and errno only, never on the message, which libvirt translates.
    /// </summary>
    public bool IsTransient => Code switch
    {
        LibvirtErrorCode.Rpc or LibvirtErrorCode.InvalidConn or LibvirtErrorCode.NoConnect => true,
        // A system call of the connection itself (socket missing, refused, reset): the daemon is not there yet.
        // The same code from a driver (a file QEMU cannot open) or a refused permission is not.
        LibvirtErrorCode.SystemError => ErrorDomain is LibvirtErrorDomain.Rpc or LibvirtErrorDomain.Remote
            && SystemErrno is not (EPERM or EACCES),
        _ => false,
    };

    /// <summary>Reads virGetLastError through <see cref="VirError"/> into an exception and resets it.</summary>
    internal static unsafe LibvirtException FromLastError(string operation)
    {
        var pointer = (VirError*)LibvirtNative.GetLastError();
        if (pointer == null) return new LibvirtException(operation, 0, 0, "failed without an error report");
        var error = *pointer;
        var message = Marshal.PtrToStringUTF8(error.Message) ?? "(no message)";
        var errno = error.Code == LibvirtErrorCode.SystemError ? error.Int1 : 0;
        LibvirtNative.ResetLastError();
        return new LibvirtException(operation, error.Code, error.Domain, message, errno);
    }
}
