using System.Formats.Tar;
using ZstdSharp;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// A host root as a .tar.zst: POSIX pax tar (System.Formats.Tar, in the BCL) compressed with zstd (ZstdSharp, a
/// managed port: no native library to find on a ppc64le or arm64 host, and NativeAOT-clean). MANIFEST.json comes
/// first. `tar --zstd -xf FILE` (or `zstd -dc FILE | tar -x`) unpacks it into a directory `--host-root` reads.
/// </summary>
public static class SnapshotArchive
{
    public const string Extension = ".tar.zst";
    private const int Level = 19;
    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    public static bool IsArchivePath(string path) => path.EndsWith(Extension, StringComparison.Ordinal);

    /// <summary>Writes a new archive; an existing non-empty file is refused, and a failed write leaves nothing.</summary>
    /// <exception cref="SnapshotException"/>
    public static void Write(HostTree tree, SnapshotManifest manifest, string file)
    {
        RefuseExisting(file);
        try
        {
            using var stream = new FileStream(file, FileMode.Create, FileAccess.Write);
            using var zstd = new CompressionStream(stream, Level);
            using var tar = new TarWriter(zstd, TarEntryFormat.Pax, leaveOpen: true);
            tar.WriteEntry(FileEntry(SnapshotManifest.FileName, manifest.ToJsonBytes()));
            foreach (var (path, node) in tree.Nodes)
            {
                tar.WriteEntry(node.Type switch
                {
                    ManifestEntryType.Directory => Entry(TarEntryType.Directory, path + "/"),
                    ManifestEntryType.Link => Entry(TarEntryType.SymbolicLink, path, node.Target),
                    _ => FileEntry(path, node.Content!),
                });
            }
        }
        catch
        {
            File.Delete(file);
            throw;
        }
    }

    /// <exception cref="SnapshotException">A directory, or a file that is not empty.</exception>
    public static void RefuseExisting(string file)
    {
        if (Directory.Exists(file)) throw new SnapshotException($"{file} is a directory; an archive is written to a new file.");
        if (File.Exists(file) && new FileInfo(file).Length > 0)
        {
            throw new SnapshotException($"{file} exists and is not empty; a snapshot is written to a new file.");
        }
    }

    /// <summary>Reads an archive back without extracting anything; entries that are not directories, files or links go to <paramref name="strange"/>.</summary>
    /// <exception cref="SnapshotException">Not a zstd-compressed tar.</exception>
    public static (HostTree Tree, byte[]? Manifest) Read(string file, List<string> strange)
    {
        var tree = new HostTree();
        byte[]? manifest = null;
        try
        {
            using var stream = File.OpenRead(file);
            using var zstd = new DecompressionStream(stream);
            using var tar = new TarReader(zstd);
            while (tar.GetNextEntry() is { } e)
            {
                var name = e.Name.TrimEnd('/');
                if (name == SnapshotManifest.FileName && e.EntryType == TarEntryType.RegularFile)
                {
                    manifest = ReadAll(e);
                    continue;
                }
                try
                {
                    switch (e.EntryType)
                    {
                        case TarEntryType.Directory:
                            tree.Set(name, new HostTreeNode(ManifestEntryType.Directory, "/" + name));
                            break;
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                            tree.Set(name, new HostTreeNode(ManifestEntryType.File, "/" + name, ReadAll(e)));
                            break;
                        case TarEntryType.SymbolicLink:
                            tree.Set(name, new HostTreeNode(ManifestEntryType.Link, "/" + name, Target: e.LinkName));
                            break;
                        default:
                            strange.Add(name);
                            break;
                    }
                }
                catch (SnapshotException)
                {
                    strange.Add(name);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or ZstdException or FormatException or EndOfStreamException)
        {
            throw new SnapshotException($"{file} is not a zstd-compressed tar archive: {e.Message}", e);
        }
        return (tree, manifest);
    }

    private static byte[] ReadAll(TarEntry e)
    {
        if (e.DataStream is null) return [];
        using var m = new MemoryStream();
        e.DataStream.CopyTo(m);
        return m.ToArray();
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, string? link = null)
    {
        var e = new PaxTarEntry(type, name)
        {
            ModificationTime = Epoch,
            Mode = type == TarEntryType.Directory ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4, // 0755, 0644
        };
        if (link is not null) e.LinkName = link;
        return e;
    }

    private static PaxTarEntry FileEntry(string name, byte[] content)
    {
        var e = Entry(TarEntryType.RegularFile, name);
        e.DataStream = new MemoryStream(content, writable: false);
        return e;
    }
}
