namespace LibvirtNvlink.Config;

/// <summary>
/// The hook's configuration file cannot be used: not well-formed, a DTD, or not valid against the schema. The
/// message names the file. A type of its own so the hook tells a configuration error from any other failure
/// without reading the message.
/// </summary>
public sealed class HookConfigException(string message, Exception? inner = null) : Exception(message, inner);
