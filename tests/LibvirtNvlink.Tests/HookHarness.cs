using LibvirtNvlink.Hook;
using LibvirtNvlink.HookProtocol;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Tests;

public sealed record HookRun(int ExitCode, string Stderr, string Log);

/// <summary>Runs the hook's dispatcher in-process against a simulated host, with its own config, state and log.</summary>
public sealed class HookHarness
{
    public HookHarness(string hostRoot, string? config = null, (int, int)? qemu = null, string libvirt = "9000000")
    {
        HostRoot = hostRoot;
        Dir = TestRunTemp.NewDirectory("hook-");
        LogPath = Path.Combine(Dir, "hook.log");
        ConfigPath = Path.Combine(Dir, "config.xml");
        File.WriteAllText(ConfigPath, config ?? $"""
            <libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'>
              <log target='file' path='{LogPath}'/>
            </libvirt-nvlink>
            """);
        CacheDir = Path.Combine(Dir, "caps");
        Directory.CreateDirectory(CacheDir);
        var q = qemu ?? (7, 2);
        foreach (var arch in (string[])["ppc64", "aarch64"])
        {
            File.WriteAllText(Path.Combine(CacheDir, arch + ".xml"),
                $"<qemuCaps>\n  <emulator>/usr/bin/qemu-system-{arch}</emulator>\n  <selfvers>{libvirt}</selfvers>\n  <version>{q.Item1 * 1_000_000 + q.Item2 * 1000}</version>\n</qemuCaps>\n");
        }
        RunDir = Path.Combine(Dir, "run");
        Directory.CreateDirectory(RunDir);
    }

    public string HostRoot { get; }

    public string Dir { get; }

    public string LogPath { get; }

    public string ConfigPath { get; }

    public string CacheDir { get; }

    public string RunDir { get; }

    public string StateDir => Path.Combine(Dir, "state");

    public string LockDir => Path.Combine(Dir, "locks");

    public HookEnvironment Environment => HookEnvironment.FromVariables(name => name switch
    {
        "LIBVIRT_NVLINK_HOST_ROOT" => HostRoot,
        "LIBVIRT_NVLINK_CONFIG" => ConfigPath,
        "LIBVIRT_NVLINK_STATE_DIR" => StateDir,
        "LIBVIRT_NVLINK_LOCK_DIR" => LockDir,
        "LIBVIRT_NVLINK_LIBVIRT_RUN_DIR" => RunDir,
        "LIBVIRT_NVLINK_LIBVIRT_CACHE_DIR" => CacheDir,
        _ => null,
    });

    /// <summary>The configuration the tests usually write: a log file, and whatever <paramref name="elements"/> add.</summary>
    public void Configure(string elements) => File.WriteAllText(ConfigPath,
        $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'>{elements}<log target='file' path='{LogPath}'/></libvirt-nvlink>");

    public HookRun Run(string xml, params string[] args) => RunWith(null, xml, args);

    /// <param name="armWatchdog">Called where the hook arms its watchdog (none when null).</param>
    public HookRun RunWith(Action<TimeSpan, HookInvocation, Config.HookConfig>? armWatchdog, string xml, params string[] args)
    {
        var stderr = new StringWriter();
        var code = new HookDispatcher(Environment, stderr) { ArmWatchdog = armWatchdog }.Run(args, xml);
        return new HookRun(code, stderr.ToString(), File.Exists(LogPath) ? File.ReadAllText(LogPath) : "");
    }
}
