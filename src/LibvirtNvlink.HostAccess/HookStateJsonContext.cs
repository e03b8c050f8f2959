using System.Text.Json.Serialization;

namespace LibvirtNvlink.HostAccess;

/// <summary>Source-generated JSON for the hook's undo records (NativeAOT: no reflection).</summary>
[JsonSerializable(typeof(HookUndoRecord))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
public sealed partial class HookStateJsonContext : JsonSerializerContext;
