using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Config;

public enum IncompletePolicy
{
    Refuse,
    Warn,
}

public enum LogTarget
{
    Syslog,
    File,
}

/// <summary>/etc/libvirt-nvlink/config.xml (xml-schemas/libvirt-nvlink-config.xsd), validated when loaded.</summary>
public sealed record HookConfig(
    IncompletePolicy Policy,
    TimeSpan Timeout,
    bool BindManagedNo,
    LogTarget LogTarget,
    string LogPath)
{
    public const string DefaultPath = "/etc/libvirt-nvlink/config.xml";
    public const string NamespaceUri = "http://libvirt-nvlink.org/xmlns/config/1.0";
    public const string DefaultLogPath = "/var/log/libvirt-nvlink/hook.log";

    public static HookConfig Default { get; } = new(IncompletePolicy.Refuse, TimeSpan.FromSeconds(10), false, LogTarget.Syslog, DefaultLogPath);

    /// <summary>The bounds of &lt;hook timeout-seconds&gt;, in the schema and here: a text that skipped validation is held to them too.</summary>
    public const int MinTimeoutSeconds = 1;

    /// <inheritdoc cref="MinTimeoutSeconds"/>
    public const int MaxTimeoutSeconds = 300;

    private const string SchemaResource = "LibvirtNvlink.Config.libvirt-nvlink-config.xsd";

    private static readonly Lazy<XmlSchemaSet> Schema = new(() =>
    {
        var set = new XmlSchemaSet();
        using var stream = OpenSchema();
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        set.Add(NamespaceUri, reader);
        set.Compile();
        return set;
    });

    /// <summary>
    /// Names this build's schema (FNV-1a of its text), so that a record of "this file was valid" made under one
    /// schema is never taken as proof under another, after an upgrade.
    /// </summary>
    public static string SchemaFingerprint => _fingerprint ??= Fingerprint();

    private static string? _fingerprint;

    /// <summary>Parses and validates a configuration document.</summary>
    /// <exception cref="HookConfigException">Not well-formed, a DTD, or not valid against the schema; names the file.</exception>
    public static HookConfig Parse(string xml, string path)
    {
        var doc = Load(xml, path);
        var errors = new List<string>();
        // The document carries no line information (it is parsed once, for speed), so the message names the attribute.
        doc.Validate(Schema.Value, (_, e) => errors.Add(e.Message.TrimEnd('.')), addSchemaInfo: false);
        if (errors.Count > 0)
        {
            throw new HookConfigException(path, $"{path} is not a valid libvirt-nvlink configuration: {string.Join("; ", errors)}. {Fix}");
        }
        return Read(doc, path);
    }

    private const string Fix = "Fix the file (schema: xml-schemas/libvirt-nvlink-config.xsd) and start again.";

    private static XDocument Load(string xml, string path)
    {
        try
        {
            return SafeXml.Parse(xml, path);
        }
        catch (DomainXmlException e)
        {
            throw new HookConfigException(path, $"{e.Message} {Fix}", e);
        }
    }

    /// <summary>
    /// Parses a document whose exact text already passed <see cref="Parse"/> against this
    /// <see cref="SchemaFingerprint"/>: compiling the schema is most of a configuration load, and the hook loads it
    /// before every GPU guest starts.
    /// </summary>
    /// <exception cref="HookConfigException">Not well-formed, or a value outside the bounds the schema sets.</exception>
    public static HookConfig ParsePreviouslyValidated(string xml, string path) => Read(Load(xml, path), path);

    private static Stream OpenSchema() =>
        typeof(HookConfig).Assembly.GetManifestResourceStream(SchemaResource)
        ?? throw new InvalidOperationException("embedded config schema missing");

    private static string Fingerprint()
    {
        using var stream = OpenSchema();
        var hash = 14695981039346656037UL;
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            hash = (hash ^ (byte)b) * 1099511628211UL;
        }
        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static HookConfig Read(XDocument doc, string path)
    {
        XNamespace ns = NamespaceUri;
        var root = doc.Root!;
        var policy = (string?)root.Element(ns + "policy")?.Attribute("incomplete") == "warn" ? IncompletePolicy.Warn : IncompletePolicy.Refuse;
        var timeout = Default.Timeout;
        if (root.Element(ns + "hook")?.Attribute("timeout-seconds") is { } t)
        {
            // The schema says the same; this holds for a text that reached us without validation, too.
            if (!decimal.TryParse(t.Value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) ||
                seconds < MinTimeoutSeconds || seconds > MaxTimeoutSeconds)
            {
                throw new HookConfigException(path, $"{path}: <hook timeout-seconds='{t.Value}'> is not a number of seconds from {MinTimeoutSeconds} to {MaxTimeoutSeconds}. {Fix}");
            }
            timeout = TimeSpan.FromSeconds((double)seconds);
        }
        var bind = (string?)root.Element(ns + "bind-managed-no")?.Attribute("enabled") == "yes";
        var log = root.Element(ns + "log");
        var target = (string?)log?.Attribute("target") == "file" ? LogTarget.File : LogTarget.Syslog;
        var logPath = (string?)log?.Attribute("path") ?? DefaultLogPath;
        return new HookConfig(policy, timeout, bind, target, logPath);
    }
}
