using System.CommandLine;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Cli.Commands;

/// <summary>
/// What define, apply, check and watch share: the connection (calls reconnect and retry on transient faults),
/// the host, backups and the transform.
/// </summary>
internal sealed class LibvirtSession(ReconnectingConnection link, Topology.HostTopology host, TargetLibvirt target, TargetQemu qemu, string backupDirectory) : IDisposable
{
    public const string DefaultUri = "qemu:///system";
    public const string DefaultBackupDirectory = "/var/lib/libvirt-nvlink/backups";

    /// <summary>The live connection, for what must happen on one connection (events, keepalive).</summary>
    public LibvirtConnection Connection => link.Current;

    /// <summary>How often a call had to reconnect: a new connection carries none of the old one's event subscriptions.</summary>
    public int Reconnects => link.Reconnects;

    /// <summary>An idempotent libvirt operation, reconnected and retried on transient faults.</summary>
    public T Call<T>(Func<LibvirtConnection, T> operation) => link.Call(operation);

    /// <summary>The same connection and target with a freshly read host.</summary>
    public LibvirtSession WithHost(Topology.HostTopology freshHost) => new(link, freshHost, Target, Qemu, backupDirectory);

    public void Dispose() => link.Dispose();

    public Topology.HostTopology Host { get; } = host;

    public TargetLibvirt Target { get; } = target;

    /// <summary>The QEMU libvirtd reports (virConnectGetVersion); the Grace edits depend on it.</summary>
    public TargetQemu Qemu { get; } = qemu;

    public static Option<string> ConnectOption() => new("--connect", "-c") { Description = "libvirt connection URI", DefaultValueFactory = _ => DefaultUri };

    public static Option<string> BackupDirOption() => new("--backup-dir") { Description = "Where the previous definition of a redefined domain is saved", DefaultValueFactory = _ => DefaultBackupDirectory };

    /// <summary>Connects (bounded retries on transient faults) and reads the host.</summary>
    public static LibvirtSession Open(string uri, bool readOnly, string hostRoot, string? versionOption, string backupDirectory, Action<string> log)
    {
        var host = DomainInput.Host(hostRoot);
        var link = new ReconnectingConnection(uri, readOnly, LibvirtRetry.Pipeline(log: log));
        var target = versionOption is not null
            ? DomainInput.Target(versionOption)
            : new TargetLibvirt(link.Call(c => c.LibraryVersionOfDaemon()), "libvirtd via the API");
        var hv = link.Call(c => c.HypervisorVersionNumber());
        var qemu = hv == 0 ? TargetQemu.Unknown : new TargetQemu(TargetQemu.FromNumber(hv), TargetQemu.FromLibvirt);
        return new LibvirtSession(link, host, target, qemu, backupDirectory);
    }

    /// <summary>The domain's current inactive definition, or null when it is not defined.</summary>
    /// <param name="secure">Include secrets (needed to redefine faithfully; refused on read-only connections).</param>
    public string? CurrentDefinition(string? name, string? uuid, bool secure = true) => Call(c =>
    {
        using var handle = (uuid is not null ? c.LookupByUuid(uuid) : null) ?? (name is not null ? c.LookupByName(name) : null);
        return handle is null ? null : LibvirtConnection.GetXml(handle, LibvirtConnection.XmlInactive | (secure ? LibvirtConnection.XmlSecure : 0));
    });

    /// <summary>Defining the same XML twice is harmless, so a define can be retried after a reconnect.</summary>
    public LibvirtDomainInfo Define(string xml) => Call(c => c.Define(xml));

    public IReadOnlyList<LibvirtDomainInfo> DefinedDomains() => Call(c => c.ListDefinedDomains());

    /// <summary>
    /// A definition without &lt;uuid&gt; for a name that exists would be a new domain clashing with the old one;
    /// like a user means it, it takes the existing domain's UUID.
    /// </summary>
    public static string AdoptUuid(string xml, string existingXml)
    {
        var d = DomainDefinition.Parse(xml);
        if (d.Root.Element("uuid") is not null) return xml;
        var uuid = DomainDefinition.Parse(existingXml).Root.Element("uuid")?.Value;
        if (uuid is null || d.Root.Element("name") is not { } nameElement) return xml;
        Xml.XmlLayout.InsertAfter(nameElement, new XElement("uuid", uuid));
        return d.ToXml();
    }

    /// <summary>
    /// Saves a definition before it is replaced; returns where. Named from its UUID and a sanitised name
    /// (<see cref="BackupFileName"/>), always inside the backup directory, readable by root only (it holds secrets).
    /// </summary>
    public string Backup(string xml)
    {
        var (name, uuid) = Identity(xml);
        Directory.CreateDirectory(backupDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var directory = Path.GetFullPath(backupDirectory);
        var path = Path.GetFullPath(Path.Combine(directory, BackupFileName.For(uuid, name, DateTime.UtcNow)));
        if (Path.GetDirectoryName(path) != directory.TrimEnd('/'))
        {
            throw new InvalidOperationException($"backup name {path} left {directory}");
        }
        AtomicFile.WriteAllText(path, xml, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <param name="graceLayout">Only define takes it: domains already defined (apply, watch) have guest addresses, which keep their layout.</param>
    public TransformResult Transform(string xml, MemlockMode memlock, GracePciLayout graceLayout = GracePciLayout.Auto) =>
        DomainTransformer.Transform(xml, Host, new TransformOptions(memlock, Target, Qemu, graceLayout));

    public static (string? Name, string? Uuid) Identity(string xml)
    {
        var d = DomainDefinition.Parse(xml);
        return (d.Root.Element("name")?.Value, d.Root.Element("uuid")?.Value);
    }
}
