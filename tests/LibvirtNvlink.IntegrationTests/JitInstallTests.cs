namespace LibvirtNvlink.IntegrationTests;

/// <summary>The JIT install (ppc64le's, built here with scripts/publish.sh --jit): the front in libvirtd's place.</summary>
public class JitInstallTests
{
    [Fact]
    public void A_JIT_publish_is_self_contained_JIT_with_the_front_next_to_the_hook()
    {
        Assert.True(File.Exists(Path.Combine(PublishedJit.Directory, "libvirt-nvlink-hook.dll")), "the hook is not a JIT (IL) program");
        Assert.True(File.Exists(Path.Combine(PublishedJit.Directory, "libcoreclr.so")), "the publish is not self-contained");
        Assert.True(File.Exists(PublishedJit.Front));
    }

    [Fact]
    public void Through_the_front_the_JIT_hook_refuses_an_incomplete_GPU_domain_and_a_plain_domain_passes_silently()
    {
        var dir = Directory.CreateTempSubdirectory("lvn-jit-hook-").FullName;
        try
        {
            var env = new Dictionary<string, string>
            {
                ["LIBVIRT_NVLINK_HOST_ROOT"] = Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"),
                ["LIBVIRT_NVLINK_CONFIG"] = Path.Combine(dir, "config.xml"),
                ["LIBVIRT_NVLINK_STATE_DIR"] = Path.Combine(dir, "state"),
                ["LIBVIRT_NVLINK_LOCK_DIR"] = Path.Combine(dir, "locks"),
            };
            File.WriteAllText(env["LIBVIRT_NVLINK_CONFIG"],
                $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><log target='file' path='{dir}/hook.log'/></libvirt-nvlink>");
            var xml = File.ReadAllText(Path.Combine(Tests.GoldenCase.Directory, "gpu1-write-in.xml"));
            var gpu = Processes.RunWithEnvironment(PublishedJit.Front, ["gpu1", "prepare", "begin", "-"], env, xml);
            Assert.Equal(1, gpu.ExitCode);
            Assert.Contains("libvirt-nvlink refused to start 'gpu1'", gpu.Stderr, StringComparison.Ordinal);
            Assert.Contains("refused", File.ReadAllText(Path.Combine(dir, "hook.log")), StringComparison.Ordinal);

            var plain = Processes.RunWithEnvironment(PublishedJit.Front, ["plain", "prepare", "begin", "-"], env, "<domain><name>plain</name></domain>");
            Assert.Equal((0, ""), (plain.ExitCode, plain.Output));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Install_hook_from_a_JIT_install_lays_down_the_front()
    {
        var hooks = Directory.CreateTempSubdirectory("lvn-jit-hooks-").FullName;
        try
        {
            var r = Processes.Run(PublishedJit.Cli, ["install-hook", "--hooks-dir", hooks, "--libvirt-version", "9.0.0"]);
            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Equal(PublishedJit.Front, new FileInfo(Path.Combine(hooks, "qemu.d", "50-libvirt-nvlink")).LinkTarget);
        }
        finally
        {
            Directory.Delete(hooks, recursive: true);
        }
    }
}
