using System.Buffers.Binary;
using System.Text;

namespace LibvirtNvlink.DeviceTree;

/// <summary>
/// Decodes flattened-device-tree property values as Linux exposes them under /sys/firmware/devicetree/base:
/// big-endian 32-bit cells, 64-bit values as two cells, NUL-terminated strings.
/// Every decoder names the property path when the bytes are malformed, because a truncated property
/// is a firmware or simulation defect the operator must be able to find.
/// </summary>
public static class DtDecode
{
    public static uint[] U32Cells(ReadOnlySpan<byte> value, string path)
    {
        if (value.Length % 4 != 0)
        {
            throw new DeviceTreeFormatException(path, $"length {value.Length} is not a multiple of 4 (32-bit cells)");
        }
        var cells = new uint[value.Length / 4];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = BinaryPrimitives.ReadUInt32BigEndian(value.Slice(i * 4, 4));
        }
        return cells;
    }

    public static uint U32(ReadOnlySpan<byte> value, string path)
    {
        if (value.Length != 4)
        {
            throw new DeviceTreeFormatException(path, $"expected one 32-bit cell (4 bytes), found {value.Length} bytes");
        }
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }

    public static ulong[] U64Array(ReadOnlySpan<byte> value, string path)
    {
        if (value.Length % 8 != 0)
        {
            throw new DeviceTreeFormatException(path, $"length {value.Length} is not a multiple of 8 (64-bit values)");
        }
        var values = new ulong[value.Length / 8];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt64BigEndian(value.Slice(i * 8, 8));
        }
        return values;
    }

    public static ulong U64(ReadOnlySpan<byte> value, string path)
    {
        if (value.Length != 8)
        {
            throw new DeviceTreeFormatException(path, $"expected one 64-bit value (8 bytes), found {value.Length} bytes");
        }
        return BinaryPrimitives.ReadUInt64BigEndian(value);
    }

    /// <summary>A phandle is one cell; 0 and 0xffffffff are never valid node handles.</summary>
    public static uint Phandle(ReadOnlySpan<byte> value, string path)
    {
        var p = U32(value, path);
        if (p is 0 or 0xffffffff)
        {
            throw new DeviceTreeFormatException(path, $"0x{p:x} is not a valid phandle");
        }
        return p;
    }

    public static uint[] PhandleList(ReadOnlySpan<byte> value, string path)
    {
        var cells = U32Cells(value, path);
        foreach (var p in cells)
        {
            if (p is 0 or 0xffffffff)
            {
                throw new DeviceTreeFormatException(path, $"0x{p:x} is not a valid phandle");
            }
        }
        return cells;
    }

    public static string String(ReadOnlySpan<byte> value, string path)
    {
        var list = StringList(value, path);
        if (list.Length != 1)
        {
            throw new DeviceTreeFormatException(path, $"expected one string, found {list.Length}");
        }
        return list[0];
    }

    public static string[] StringList(ReadOnlySpan<byte> value, string path)
    {
        if (value.Length == 0 || value[^1] != 0)
        {
            throw new DeviceTreeFormatException(path, "string value is not NUL-terminated");
        }
        var parts = new List<string>();
        var rest = value[..^1];
        while (true)
        {
            var nul = rest.IndexOf((byte)0);
            var piece = nul < 0 ? rest : rest[..nul];
            parts.Add(Encoding.UTF8.GetString(piece));
            if (nul < 0) break;
            rest = rest[(nul + 1)..];
        }
        return [.. parts];
    }

    public static byte[] EncodeU32(params uint[] cells)
    {
        var bytes = new byte[cells.Length * 4];
        for (var i = 0; i < cells.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), cells[i]);
        }
        return bytes;
    }

    public static byte[] EncodeU64(params ulong[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), values[i]);
        }
        return bytes;
    }

    public static byte[] EncodeStrings(params string[] strings)
    {
        var buffer = new List<byte>();
        foreach (var s in strings)
        {
            buffer.AddRange(Encoding.UTF8.GetBytes(s));
            buffer.Add(0);
        }
        return [.. buffer];
    }
}
