using System.Text.Json.Serialization;

namespace LibvirtNvlink.Snapshot;

/// <summary>What a host-root entry is. Nothing else (devices, FIFOs, sockets) is ever copied.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ManifestEntryType>))]
public enum ManifestEntryType
{
    [JsonStringEnumMemberName("dir")]
    Directory,

    [JsonStringEnumMemberName("file")]
    File,

    [JsonStringEnumMemberName("link")]
    Link,
}
