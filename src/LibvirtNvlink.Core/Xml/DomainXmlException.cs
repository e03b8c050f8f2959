namespace LibvirtNvlink.Xml;

/// <summary>Input that is not a domain LibvirtNvlink can safely read or change. Nothing was written.</summary>
public sealed class DomainXmlException(string message, Exception? inner = null) : Exception(message, inner);
