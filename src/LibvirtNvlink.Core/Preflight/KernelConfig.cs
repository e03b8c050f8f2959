namespace LibvirtNvlink.Preflight;

/// <summary>
/// A kernel's build configuration (the .config distributions install as /boot/config-RELEASE):
/// "CONFIG_X=y|m|value" lines, "# CONFIG_X is not set" for the options turned off. Pure.
/// </summary>
public sealed class KernelConfig
{
    private readonly Dictionary<string, string> _values;

    private KernelConfig(Dictionary<string, string> values, string source)
    {
        _values = values;
        Source = source;
    }

    /// <summary>Where it was read, for messages.</summary>
    public string Source { get; }

    public static KernelConfig Parse(string text, string source)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("CONFIG_", StringComparison.Ordinal)) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 7) values[line[7..eq]] = line[(eq + 1)..].Trim('"');
        }
        return new KernelConfig(values, source);
    }

    /// <summary>The value of CONFIG_<paramref name="option"/> ("y", "m", …), or null when it is not set.</summary>
    public string? Value(string option) => _values.GetValueOrDefault(option);

    /// <summary>Built in or a module.</summary>
    public bool IsEnabled(string option) => Value(option) is "y" or "m";

    /// <summary>
    /// Whether a kernel has a feature: CONFIG_<paramref name="option"/> built in or as a module when its configuration
    /// was read, else its release from <paramref name="since"/> on; null when neither tells. The one rule the preflight
    /// and the transform's choice of layout share.
    /// </summary>
    public static bool? Has(KernelConfig? config, string? kernelRelease, string option, (int Major, int Minor) since) =>
        config is not null ? config.IsEnabled(option)
            : Topology.GraceTopologyBuilder.KernelVersion(kernelRelease) is { } release ? release.CompareTo(since) >= 0 : null;
}
