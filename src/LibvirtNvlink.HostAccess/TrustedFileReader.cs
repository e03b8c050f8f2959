using LibvirtNvlink.HostAccess.Interop;

namespace LibvirtNvlink.HostAccess;

/// <summary>A file <see cref="TrustedFiles"/> opened and checked: read from the descriptor, never by path again.</summary>
public sealed class TrustedFileReader : IDisposable
{
    private readonly FileDescriptorHandle _fd;
    private readonly string _path;
    private long _read;

    internal TrustedFileReader(FileDescriptorHandle fd, string path)
    {
        _fd = fd;
        _path = path;
    }

    /// <summary>Fills <paramref name="buffer"/> as far as the file allows; fewer bytes only at its end.</summary>
    public int ReadUpTo(Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = LibcInterop.Read(_fd, buffer[total..], _path);
            if (n == 0) break;
            total += n;
        }
        _read += total;
        return total;
    }

    /// <summary>The rest of the file.</summary>
    /// <exception cref="UntrustedFileException">It holds more than <paramref name="maxBytes"/> in all.</exception>
    public byte[] ReadToEnd(int maxBytes)
    {
        using var buffer = new MemoryStream();
        Span<byte> chunk = stackalloc byte[4096];
        while (true)
        {
            var n = LibcInterop.Read(_fd, chunk, _path);
            if (n == 0) return buffer.ToArray();
            _read += n;
            if (_read > maxBytes)
            {
                throw new UntrustedFileException(_path, $"it is larger than {maxBytes} bytes, more than such a file ever holds", "check what wrote it, and remove or shorten it");
            }
            buffer.Write(chunk[..n]);
        }
    }

    public void Dispose() => _fd.Dispose();
}
