using System.CommandLine;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Cli.Commands;

/// <summary>Options and input handling shared by the commands that read a domain XML.</summary>
internal static class DomainInput
{
    public static Argument<string> File() => new("file")
    {
        Description = "The domain XML file, or - (the default) for standard input",
        DefaultValueFactory = _ => "-",
    };

    public static Option<string?> LibvirtVersionOption() => new("--libvirt-version")
    {
        Description = "The libvirt version that will run the domain (default: the libvirt installed here, else 9.0.0 assumed)",
    };

    public static Option<string?> QemuVersionOption() => new("--qemu-version")
    {
        Description = "The QEMU version that will run the domain, e.g. 9.2 (default: what libvirt reports, else libvirt's capability cache); Grace domains depend on it",
    };

    /// <summary>--qemu-version, else libvirt's capability cache (under the host root) for the domain's emulator, else unknown.</summary>
    public static TargetQemu Qemu(string? option, string xml, string hostRoot)
    {
        if (option is not null)
        {
            if (!TargetQemu.TryParse(option, out var v)) throw new UsageException($"--qemu-version '{option}' is not a version like 9.2");
            return new TargetQemu(v, TargetQemu.FromOption);
        }
        string emulator;
        try { emulator = DomainDefinition.Parse(xml).Emulator; }
        catch (Xml.DomainXmlException) { return TargetQemu.Unknown; }
        var (qemu, _, _) = PlatformReader.ReadLibvirtCache(new HostRoot(hostRoot).Map(PlatformReader.LibvirtCapabilityCache), emulator);
        return qemu is { } q ? new TargetQemu(q, TargetQemu.FromCache) : TargetQemu.Unknown;
    }

    /// <exception cref="UsageException">Unreadable file or malformed version.</exception>
    public static string Read(string file)
    {
        try
        {
            return file == "-" ? Console.In.ReadToEnd() : System.IO.File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read {file}: {e.Message}");
        }
    }

    public static TargetLibvirt Target(string? option)
    {
        if (option is null) return LibvirtLibrary.ResolveTarget(null);
        if (!LibvirtVersion.TryParse(option, out var v))
        {
            throw new UsageException($"--libvirt-version '{option}' is not a version like 9.0.0");
        }
        return LibvirtLibrary.ResolveTarget(v);
    }

    public static Topology.HostTopology Host(string hostRoot)
    {
        try
        {
            return HostDiscovery.Discover(new HostRoot(hostRoot));
        }
        catch (HostRootException e)
        {
            throw new UsageException(e.Message);
        }
    }
}

/// <summary>Bad usage or unreadable input: exit 2, nothing written.</summary>
internal sealed class UsageException(string message) : Exception(message);
