using LibvirtNvlink.Config;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Loads the hook's configuration, validated against the schema — once per distinct text. After a text passes, a
/// copy of it is kept in the state directory under the schema's fingerprint; a later load of the very same text
/// under the same schema skips compiling the schema (most of a load's cost, paid before every GPU guest starts).
/// Any difference in a single byte, or a new schema, validates again.
/// </summary>
public static class HookConfigLoader
{
    /// <returns>The defaults when the file does not exist.</returns>
    /// <exception cref="HookConfigException">Not well-formed or not valid; names the file.</exception>
    public static HookConfig Load(string configPath, string stateDirectory)
    {
        string text;
        try
        {
            text = File.ReadAllText(configPath);
        }
        catch (FileNotFoundException)
        {
            return HookConfig.Default;
        }
        catch (DirectoryNotFoundException)
        {
            return HookConfig.Default;
        }
        var copy = ValidatedCopyPath(stateDirectory);
        if (ReadIfPresent(copy) == text) return HookConfig.ParsePreviouslyValidated(text, configPath);
        var config = HookConfig.Parse(text, configPath);
        try
        {
            Directory.CreateDirectory(stateDirectory);
            AtomicFile.WriteAllText(copy, text);
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

    private static string? ReadIfPresent(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
