using System.Runtime.InteropServices;

namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>A failed Linux call, carrying what was called, on which path, and errno.</summary>
public sealed class ErrnoException(string operation, string path, int errno)
    : IOException($"{operation} {path}: {Describe(errno)}")
{
    public const int ENOENT = 2;
    public const int ENXIO = 6;
    public const int EINTR = 4;
    public const int EEXIST = 17;
    public const int EACCES = 13;
    public const int EISDIR = 21;
    public const int EAGAIN = 11;
    public const int ELOOP = 40;
    public const int ENOTDIR = 20;

    public string Operation { get; } = operation;
    public string Path { get; } = path;
    public int Errno { get; } = errno;

    public static string Describe(int errno) => errno switch
    {
        ELOOP => "too many levels of symbolic links (a symlink loop)",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };
}
