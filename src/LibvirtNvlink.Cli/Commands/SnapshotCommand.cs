using System.CommandLine;
using System.Globalization;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Snapshot;

namespace LibvirtNvlink.Cli.Commands;

internal static class SnapshotCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write the snapshot to this new FILE.tar.zst or new (or empty) directory" };
        var hostRoot = CommonOptions.HostRoot();
        var redact = new Option<bool>("--redact") { Description = "Replace serial numbers, UUIDs and location codes with stable placeholders" };
        var noVfio = new Option<bool>("--no-vfio") { Description = "Do not open VFIO groups to record their answers" };
        var verify = new Option<string?>("--verify") { Description = "Check a snapshot (FILE.tar.zst or directory) against its MANIFEST.json instead" };
        var cmd = new Command("snapshot", "Capture what discovery, the preflight and explain read as a host root, for bug reports and tests")
        {
            output, hostRoot, redact, noVfio, verify,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(verify) is { } path) return Verify(path);
                if (parse.GetValue(output) is not { } target)
                {
                    Console.Error.WriteLine("libvirt-nvlink snapshot: give -o FILE.tar.zst or -o DIR (or --verify FILE).");
                    return ExitCodes.Usage;
                }
                return Capture(new HostRoot(parse.GetValue(hostRoot)!), target, parse.GetValue(redact), parse.GetValue(noVfio));
            }
            catch (Exception e) when (e is SnapshotException or HostRootException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"libvirt-nvlink snapshot: {e.Message}");
                return ExitCodes.Usage;
            }
        });
        return cmd;
    }

    private static int Capture(HostRoot root, string target, bool redact, bool noVfio)
    {
        // Refused before anything is read, so a typo costs nothing.
        if (SnapshotArchive.IsArchivePath(target)) SnapshotArchive.RefuseExisting(target);
        else HostTree.RefuseNonEmpty(target);
        var snapshot = HostSnapshotter.Capture(root, noVfio ? _ => null : null, redact);
        var manifest = snapshot.Manifest();
        if (SnapshotArchive.IsArchivePath(target)) SnapshotArchive.Write(snapshot.Tree, manifest, target);
        else snapshot.Tree.WriteDirectory(target, manifest);

        var e = Console.Error;
        var inv = CultureInfo.InvariantCulture;
        var files = manifest.Entries.Where(x => x.Type == ManifestEntryType.File).ToList();
        e.WriteLine(string.Create(inv, $"Wrote {target}: {files.Count} files ({files.Sum(f => f.Size ?? 0)} bytes), " +
            $"{manifest.Entries.Count(x => x.Type == ManifestEntryType.Link)} symlinks, {manifest.Entries.Count(x => x.Type == ManifestEntryType.Directory)} directories; " +
            $"every one is listed with its SHA-256 in {SnapshotManifest.FileName}."));
        var redactedCount = manifest.Entries.Count(x => x.Redacted == true);
        e.WriteLine(redact
            ? string.Create(inv, $"Redacted: {redactedCount} file(s) had serial numbers, UUIDs or location codes replaced by placeholders.")
            : "Not redacted: device-tree location codes (which embed the system serial number on IBM machines) are included; use --redact to replace them.");
        foreach (var s in manifest.Skipped) e.WriteLine($"Skipped {s.Source}: {s.Reason}");
        e.WriteLine(SnapshotArchive.IsArchivePath(target)
            ? $"Read it back with: mkdir host && tar --zstd -xf {target} -C host && libvirt-nvlink topology --host-root host"
            : $"Read it back with: libvirt-nvlink topology --host-root {target}");
        return ExitCodes.Ok;
    }

    private static int Verify(string path)
    {
        var problems = SnapshotVerifier.Verify(path);
        foreach (var p in problems) Console.Out.WriteLine(p);
        if (problems.Count > 0)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"libvirt-nvlink snapshot: {path} does not match its manifest ({problems.Count} problem(s))."));
            return ExitCodes.Findings;
        }
        Console.Error.WriteLine($"{path}: every entry matches {SnapshotManifest.FileName}.");
        return ExitCodes.Ok;
    }
}
