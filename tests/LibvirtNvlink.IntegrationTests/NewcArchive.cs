using System.Globalization;
using System.Text;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>A cpio archive in the "newc" format the kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).</summary>
public sealed class NewcArchive(Stream output)
{
    private int _inode = 1;

    public void Directory(string name) => Entry(name, 0x4000 | 0x1ed, [], 0, 0);

    public void CharacterDevice(string name, int major, int minor) => Entry(name, 0x2000 | 0x180, [], major, minor);

    public void File(string name, byte[] data, bool executable) => Entry(name, 0x8000 | (executable ? 0x1ed : 0x1a4), data, 0, 0);

    public void Finish() => Entry("TRAILER!!!", 0, [], 0, 0);

    private void Entry(string name, int mode, byte[] data, int rdevMajor, int rdevMinor)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        foreach (var field in new[] { _inode++, mode, 0, 0, 1, 0, data.Length, 0, 0, rdevMajor, rdevMinor, nameBytes.Length, 0 })
        {
            header.Append(field.ToString("x8", CultureInfo.InvariantCulture));
        }
        var head = Encoding.ASCII.GetBytes(header.ToString());
        output.Write(head);
        output.Write(nameBytes);
        Pad(head.Length + nameBytes.Length);
        output.Write(data);
        Pad(data.Length);
    }

    private void Pad(int length)
    {
        for (var i = length; i % 4 != 0; i++) output.WriteByte(0);
    }
}
