using System.Text;
using LibvirtNvlink.HostAccess.Interop;
using static Tmds.Linux.LibC;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Replaces this process with another program whose stdin holds the given bytes (an anonymous memfd), so the
/// hook's front can hand the domain XML it already read to the worker without a child process or a temp file.
/// </summary>
public static class ProcessReplacement
{
    /// <summary>Only returns by throwing: on success the process image is replaced.</summary>
    /// <exception cref="ErrnoException">memfd_create, write, dup2 or execv failed; names the call and path.</exception>
    public static unsafe void ExecWithStdin(string path, IReadOnlyList<string> args, ReadOnlySpan<byte> stdin)
    {
        var fd = LibcInterop.MemfdCreate("libvirt-nvlink-domain-xml", 0);
        if (fd < 0) throw new ErrnoException("memfd_create", "libvirt-nvlink-domain-xml", errno);
        fixed (byte* data = stdin)
        {
            var written = 0;
            while (written < stdin.Length)
            {
                var n = write(fd, data + written, stdin.Length - written);
                if (n < 0)
                {
                    if (errno == EINTR) continue;
                    throw new ErrnoException("write", "memfd", errno);
                }
                written += (int)n;
            }
        }
        if (lseek(fd, 0, SEEK_SET) < 0) throw new ErrnoException("lseek", "memfd", errno);
        if (LibcInterop.Dup2(fd, 0) < 0) throw new ErrnoException("dup2", "memfd -> stdin", errno);
        _ = close(fd);

        var strings = new List<byte[]> { Encoding.UTF8.GetBytes(path + "\0") };
        strings.AddRange(args.Select(a => Encoding.UTF8.GetBytes(a + "\0")));
        var handles = strings.Select(s => System.Runtime.InteropServices.GCHandle.Alloc(s, System.Runtime.InteropServices.GCHandleType.Pinned)).ToList();
        try
        {
            var argv = stackalloc byte*[strings.Count + 1];
            for (var i = 0; i < strings.Count; i++) argv[i] = (byte*)handles[i].AddrOfPinnedObject();
            argv[strings.Count] = null;
            LibcInterop.Execv(argv[0], argv);
            throw new ErrnoException("execv", path, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }
}
