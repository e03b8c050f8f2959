using System.Text;
using LibvirtNvlink.Config;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Loads the hook's configuration, validated against the schema — once per distinct text. After a text passes, a
/// copy of it is kept in the state directory under the schema's fingerprint; a later load of the very same text
/// under the same schema skips compiling the schema (most of a load's cost, paid before every GPU guest starts).
/// Any difference in a single byte, or a new schema, validates again. Both files are read through
/// <see cref="TrustedFiles"/>: a copy that is not root's alone proves nothing and is validated again; a configuration
/// that is not root's alone is refused.
/// </summary>
public static class HookConfigLoader
{
    /// <summary>A configuration is a few hundred bytes; anything near this is not one.</summary>
    public const int MaxConfigBytes = 64 * 1024;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <returns>The defaults when the file does not exist.</returns>
    /// <exception cref="HookConfigException">Untrusted, unreadable, not well-formed or not valid; names the file and the fix.</exception>
    public static HookConfig Load(string configPath, string stateDirectory)
    {
        byte[]? bytes;
        try
        {
            bytes = TrustedFiles.ReadIfExists(configPath, MaxConfigBytes);
        }
        catch (IOException e)
        {
            throw new HookConfigException(configPath, e.Message, e);
        }
        if (bytes is null) return HookConfig.Default;
        var text = Encoding.UTF8.GetString(bytes);
        var copy = ValidatedCopyPath(stateDirectory);
        var stateUsable = StateDirectoryUsable(stateDirectory);
        if (stateUsable && ReadCopy(copy) is { } copied && copied.AsSpan().SequenceEqual(bytes))
        {
            return HookConfig.ParsePreviouslyValidated(text, configPath);
        }
        var config = HookConfig.Parse(text, configPath);
        if (!stateUsable) return config;
        try
        {
            AtomicFile.WriteAllBytes(copy, bytes, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            // Copies made under an earlier schema prove nothing any more.
            foreach (var stale in Directory.EnumerateFiles(stateDirectory, "config.validated-*.xml"))
            {
                if (stale != copy) File.Delete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a cost: the next load validates again.
        }
        return config;
    }

    public static string ValidatedCopyPath(string stateDirectory) =>
        Path.Combine(stateDirectory, $"config.validated-{HookConfig.SchemaFingerprint}.xml");

    private static bool StateDirectoryUsable(string stateDirectory)
    {
        try
        {
            TrustedFiles.EnsureDirectory(stateDirectory, Private);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Validating every time is the price; the undo records in it are refused where they are read.
            return false;
        }
    }

    private static byte[]? ReadCopy(string path)
    {
        try
        {
            return TrustedFiles.ReadIfExists(path, MaxConfigBytes);
        }
        catch (IOException)
        {
            // A FIFO, a link, someone else's file: not proof of anything; validating again replaces it.
            return null;
        }
    }
}
