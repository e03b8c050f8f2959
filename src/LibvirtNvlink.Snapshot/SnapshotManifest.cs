using System.Text.Json;
using System.Text.Json.Serialization;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// MANIFEST.json at the top of a host root: every directory, file and link in it (itself excepted), in ordinal
/// path order, with what was skipped. `snapshot` writes one, `simulate-host` too, and `snapshot --verify` checks a
/// tree or archive against it.
/// </summary>
public sealed record SnapshotManifest(
    string Format,
    bool Redacted,
    IReadOnlyList<ManifestEntry> Entries,
    IReadOnlyList<SkippedPath> Skipped)
{
    public const string FileName = "MANIFEST.json";
    public const string CurrentFormat = "libvirt-nvlink-host-root/1";

    public byte[] ToJsonBytes()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(this, SnapshotManifestJsonContext.Default.SnapshotManifest);
        return [.. bytes, (byte)'\n'];
    }

    /// <exception cref="SnapshotException">Not a manifest of a format this tool reads.</exception>
    public static SnapshotManifest Parse(byte[] json, string where)
    {
        SnapshotManifest? m;
        try
        {
            m = JsonSerializer.Deserialize(json, SnapshotManifestJsonContext.Default.SnapshotManifest);
        }
        catch (JsonException e)
        {
            throw new SnapshotException($"{where} is not a valid {FileName}: {e.Message}");
        }
        if (m is null || m.Format != CurrentFormat)
        {
            throw new SnapshotException($"{where} has format '{m?.Format}', this tool reads '{CurrentFormat}'.");
        }
        return m;
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(SnapshotManifest))]
public sealed partial class SnapshotManifestJsonContext : JsonSerializerContext;
