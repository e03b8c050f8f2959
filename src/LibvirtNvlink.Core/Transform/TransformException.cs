
namespace LibvirtNvlink.Transform;

/// <summary>The domain cannot be completed as asked; nothing was written. The message names device and fix.</summary>
public sealed class TransformException(string message) : Exception(message);
