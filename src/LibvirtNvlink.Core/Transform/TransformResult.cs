using LibvirtNvlink.Memlock;

namespace LibvirtNvlink.Transform;

/// <param name="Messages">Diagnostics for stderr: what was done and why, warnings included.</param>
public sealed record TransformResult(string Xml, bool Changed, IReadOnlyList<string> Messages, MemlockResult? Memlock);
