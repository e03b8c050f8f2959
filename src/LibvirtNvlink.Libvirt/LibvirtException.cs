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

/// <summary>A failed libvirt call: libvirt's own error code, domain (subsystem) and message, and what we called.</summary>
public sealed class LibvirtException(string operation, int code, int domain, string message)
    : Exception($"{operation}: {message}")
{
    public string Operation { get; } = operation;

    public int Code { get; } = code;

    public int ErrorDomain { get; } = domain;

    public string LibvirtMessage { get; } = message;

    /// <summary>
    /// Worth retrying: the daemon is restarting or its socket is not there yet. Not: bad XML, a missing domain,
    /// permission or authentication problems — retrying those only delays the error.
    /// </summary>
    public bool IsTransient => Code switch
    {
        LibvirtErrorCode.Rpc or LibvirtErrorCode.InvalidConn => true,
        LibvirtErrorCode.SystemError or LibvirtErrorCode.NoConnect =>
            !LibvirtMessage.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) &&
            !LibvirtMessage.Contains("authentication", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>Reads virGetLastError (code at 0, domain at 4, message pointer at 8) into an exception.</summary>
    internal static LibvirtException FromLastError(string operation)
    {
        var error = LibvirtNative.GetLastError();
        if (error == 0) return new LibvirtException(operation, 0, 0, "failed without an error report");
        var code = Marshal.ReadInt32(error, 0);
        var domain = Marshal.ReadInt32(error, 4);
        var message = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(error, 8)) ?? "(no message)";
        LibvirtNative.ResetLastError();
        return new LibvirtException(operation, code, domain, message);
    }
}
