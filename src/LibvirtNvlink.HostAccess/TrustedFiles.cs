using System.Globalization;
using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// How the root hook opens its own files — configuration, validated copy, undo records, log, locks — and libvirt's
/// capability cache: never through a symlink (O_NOFOLLOW), never blocking (O_NONBLOCK: a FIFO cannot hang it), never
/// more than a size cap, never taking or honouring another process's flock (open(2), not FileStream), and only when
/// owned by root (or by the user the hook runs as) and writable by nobody else. Anything else is refused with an
/// <see cref="UntrustedFileException"/> naming the file and the fix. See docs/design.md, "Threat model".
/// </summary>
public static class TrustedFiles
{
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    private static readonly uint Self = LibcInterop.EffectiveUserId();

    /// <summary>root, and the user the hook runs as (tests and simulations run it unprivileged): no one else.</summary>
    public static bool IsTrustedOwner(uint uid) => uid == 0 || uid == Self;

    /// <returns>The whole file, or null when it does not exist.</returns>
    /// <exception cref="UntrustedFileException">A symlink, not a regular file, larger than <paramref name="maxBytes"/>, or not root's.</exception>
    /// <exception cref="ErrnoException">Exists but cannot be read.</exception>
    public static byte[]? ReadIfExists(string path, int maxBytes)
    {
        using var file = OpenForReading(path);
        return file?.ReadToEnd(maxBytes);
    }

    /// <summary>
    /// Like <see cref="ReadIfExists"/> but for a file another service writes under an owner of its own (libvirt's pid
    /// files): still no symlink, no FIFO or device, no flock and a size cap, but any owner. Only for facts a wrong
    /// value of which can mislead a log line and nothing more.
    /// </summary>
    public static byte[]? ReadRegularFileIfExists(string path, int maxBytes)
    {
        using var file = OpenForReading(path, checkOwner: false);
        return file?.ReadToEnd(maxBytes);
    }

    /// <summary>Opens a file for reading after the checks of <see cref="ReadIfExists"/>; null when it does not exist.</summary>
    public static TrustedFileReader? OpenForReading(string path) => OpenForReading(path, checkOwner: true);

    private static TrustedFileReader? OpenForReading(string path, bool checkOwner)
    {
        FileDescriptorHandle fd;
        try
        {
            fd = LibcInterop.OpenFile(path, OpenFlags.ReadOnly | OpenFlags.NonBlocking | OpenFlags.NoFollow | OpenFlags.NoControllingTty);
        }
        catch (ErrnoException e) when (e.Errno is ErrnoException.ENOENT or ErrnoException.ENOTDIR)
        {
            return null;
        }
        catch (ErrnoException e) when (e.Errno == ErrnoException.ELOOP)
        {
            throw SymlinkRefused(path);
        }
        try
        {
            CheckFile(LibcInterop.Status(fd, path), path, checkOwner);
            return new TrustedFileReader(fd, path);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Appends to a file created 0640 when missing, in a directory made by <see cref="EnsureDirectory"/> (0750).</summary>
    public static void Append(string path, ReadOnlySpan<byte> bytes)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } dir) EnsureDirectory(dir, (UnixFileMode)0x1E8 /* 0750 */);
        using var fd = OpenForWriting(path, OpenFlags.WriteOnly | OpenFlags.Append, (UnixFileMode)0x1A0 /* 0640 */);
        LibcInterop.WriteAll(fd, bytes, path);
    }

    /// <summary>A lock file (created 0600), open for flock.</summary>
    public static FileDescriptorHandle OpenLockFile(string path) =>
        OpenForWriting(path, OpenFlags.ReadWrite, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>
    /// Creates the directory with <paramref name="createMode"/> when missing, then refuses it unless it is a real
    /// directory (not a symlink) that root owns and nobody else can write.
    /// </summary>
    public static void EnsureDirectory(string path, UnixFileMode createMode)
    {
        if (LibcInterop.StatusNoFollow(path) is null) Directory.CreateDirectory(path, createMode);
        CheckDirectory(path);
    }

    /// <summary>Refuses a directory unless it is a real directory that root owns and nobody else can write; false when missing.</summary>
    public static bool CheckDirectory(string path)
    {
        if (LibcInterop.StatusNoFollow(path) is not { } st) return false;
        if (st.Type == FileStatus.SymbolicLink) throw SymlinkRefused(path);
        if (st.Type != FileStatus.Directory)
        {
            throw new UntrustedFileException(path, $"it is {st.TypeName}, not a directory", $"remove it; the hook creates the directory itself (mode 0700)");
        }
        CheckOwnerAndMode(st, path, "chmod go-w");
        return true;
    }

    private static FileDescriptorHandle OpenForWriting(string path, OpenFlags access, UnixFileMode createMode)
    {
        FileDescriptorHandle fd;
        try
        {
            fd = LibcInterop.OpenFile(path, access | OpenFlags.Create | OpenFlags.NonBlocking | OpenFlags.NoFollow | OpenFlags.NoControllingTty, createMode);
        }
        catch (ErrnoException e) when (e.Errno == ErrnoException.ELOOP)
        {
            throw SymlinkRefused(path);
        }
        catch (ErrnoException e) when (e.Errno == ErrnoException.ENXIO)
        {
            // O_WRONLY | O_NONBLOCK on a FIFO nobody reads.
            throw new UntrustedFileException(path, "it is a FIFO, not a regular file", $"remove it (rm {path})");
        }
        try
        {
            CheckFile(LibcInterop.Status(fd, path), path);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static void CheckFile(FileStatus st, string path, bool checkOwner = true)
    {
        if (st.Type != FileStatus.Regular)
        {
            throw new UntrustedFileException(path, $"it is {st.TypeName}, not a regular file", $"remove it (rm {path}) and put the file there");
        }
        if (checkOwner) CheckOwnerAndMode(st, path, "chmod go-w");
    }

    private static void CheckOwnerAndMode(FileStatus st, string path, string chmod)
    {
        if (!IsTrustedOwner(st.Owner))
        {
            throw new UntrustedFileException(path, $"it is owned by uid {st.Owner.ToString(CultureInfo.InvariantCulture)}, not root",
                $"if its content is yours, chown root:root {path}; otherwise remove it");
        }
        if ((st.Mode & WritableByOthers) != 0)
        {
            throw new UntrustedFileException(path, $"group or others can write it (mode {Octal(st.Mode)})", $"{chmod} {path}");
        }
    }

    private static UntrustedFileException SymlinkRefused(string path) =>
        new(path, "it is a symbolic link, and the hook follows none to its own files", $"replace the link with the file or directory itself (rm {path})");

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
