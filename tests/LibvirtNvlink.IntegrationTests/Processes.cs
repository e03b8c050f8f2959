using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

public static class Processes
{
    public static ProcessResult Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 120) =>
        ProcessRunner.Run(file, args, null, stdin, timeoutSeconds);

    public static ProcessResult RunWithEnvironment(string file, IEnumerable<string> args, IDictionary<string, string>? env, string? stdin = null, int timeoutSeconds = 120) =>
        ProcessRunner.Run(file, args, env, stdin, timeoutSeconds);

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Integration tests skip when libvirt is absent on a developer machine, but scripts/test.sh sets
    /// LIBVIRT_NVLINK_REQUIRE_LIBVIRT=1 (it installs libvirt first), so in CI a missing piece is a failure.
    /// </summary>
    public static void RequireOrSkip(bool available, string what)
    {
        if (available) return;
        if (Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_REQUIRE_LIBVIRT") == "1")
        {
            Assert.Fail($"{what} is required (LIBVIRT_NVLINK_REQUIRE_LIBVIRT=1) but not available");
        }
        Assert.Skip($"{what} is not available here; scripts/test.sh installs it");
    }
}
