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

    private static readonly Lazy<XmlSchemaSet> Schema = new(() =>
    {
        var set = new XmlSchemaSet();
        using var stream = typeof(HookConfig).Assembly.GetManifestResourceStream("LibvirtNvlink.Config.libvirt-nvlink-config.xsd")
                           ?? throw new InvalidOperationException("embedded config schema missing");
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        set.Add(NamespaceUri, reader);
        set.Compile();
        return set;
    });

    /// <summary>Parses and validates a configuration document.</summary>
    /// <exception cref="DomainXmlException">Not well-formed, a DTD, or not valid against the schema; names the file.</exception>
    public static HookConfig Parse(string xml, string path)
    {
        var doc = SafeXml.Parse(xml, path);
        var errors = new List<string>();
        doc.Validate(Schema.Value, (_, e) => errors.Add($"line {e.Exception?.LineNumber}: {e.Message}"), addSchemaInfo: false);
        if (errors.Count > 0)
        {
            throw new DomainXmlException($"{path} is not a valid libvirt-nvlink configuration: {string.Join("; ", errors)}");
        }
        XNamespace ns = NamespaceUri;
        var root = doc.Root!;
        var policy = (string?)root.Element(ns + "policy")?.Attribute("incomplete") == "warn" ? IncompletePolicy.Warn : IncompletePolicy.Refuse;
        var timeout = root.Element(ns + "hook")?.Attribute("timeout-seconds") is { } t
            ? TimeSpan.FromSeconds((double)decimal.Parse(t.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture))
            : Default.Timeout;
        var bind = (string?)root.Element(ns + "bind-managed-no")?.Attribute("enabled") == "yes";
        var log = root.Element(ns + "log");
        var target = (string?)log?.Attribute("target") == "file" ? LogTarget.File : LogTarget.Syslog;
        var logPath = (string?)log?.Attribute("path") ?? DefaultLogPath;
        return new HookConfig(policy, timeout, bind, target, logPath);
    }
}
