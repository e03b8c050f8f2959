using System.Globalization;
using System.Text;

namespace LibvirtNvlink.Cli.Commands;

/// <summary>
/// The name of a saved definition: the domain's UUID, then its name cut down to characters that cannot leave the
/// directory or confuse a shell (a domain name may hold '/', '..' or anything else), then the time.
/// </summary>
internal static class BackupFileName
{
    private const int MaxNameLength = 64;

    public static string For(string? uuid, string? name, DateTime utc)
    {
        var id = Guid.TryParse(uuid, out var g) ? g.ToString("D") : "no-uuid";
        var stamp = utc.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
        return $"{id}-{Sanitise(name)}-{stamp}.xml";
    }

    public static string Sanitise(string? name)
    {
        var b = new StringBuilder();
        foreach (var c in name ?? "")
        {
            if (b.Length == MaxNameLength) break;
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+' ? c : c == '.' && b.Length > 0 ? '.' : '_');
        }
        return b.Length == 0 ? "domain" : b.ToString();
    }
}
