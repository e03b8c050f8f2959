using LibvirtNvlink.Cli;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Libvirt;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Tests;

/// <summary>
/// The one exception → exit-code table of the CLI (Program.Failure): each exception type a command lets out,
/// and end to end through the real CLI that a command's failure goes through it.
/// </summary>
public class CliExitCodeTests
{
    private static readonly string[] Commands = ["topology", "simulate-host", "transform", "explain", "install-hook", "define", "check", "apply"];

    public static TheoryData<string, Exception> BadInput => new()
    {
        { "a usage error", new Cli.Commands.UsageException("give --domain NAME or --all") },
        { "domain XML we refuse", new DomainXmlException("not a <domain>") },
        { "a transform we refuse", new TransformException("GPU and bridge on different PHBs") },
        { "an unreadable host root", new HostRootException("/nope is not a host root") },
        { "a bad host layout", new HostLayoutException("layout x: unknown defect") },
        { "a file we cannot read or write", new IOException("disk full") },
        { "a file we may not touch", new UnauthorizedAccessException("access denied") },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void Bad_input_is_exit_2_with_its_message_in_every_command(string what, Exception e)
    {
        foreach (var command in Commands)
        {
            var failure = Cli.Program.Failure(command, e);
            Assert.True(failure is not null, $"{what} is not mapped for {command}");
            Assert.Equal((ExitCodes.Usage, e.Message), (failure.ExitCode, failure.Message));
        }
    }

    [Fact]
    public void A_libvirt_failure_is_exit_1_where_the_command_ran_and_exit_2_for_check()
    {
        var e = new LibvirtException("virDomainDefineXMLFlags", LibvirtErrorCode.XmlInvalidSchema, 20, "XML document failed to validate");
        Assert.Equal(ExitCodes.Findings, Cli.Program.Failure("apply", e)!.ExitCode);
        Assert.Equal(ExitCodes.Usage, Cli.Program.Failure("check", e)!.ExitCode);
        var define = Cli.Program.Failure("define", e)!;
        Assert.Equal(ExitCodes.Findings, define.ExitCode);
        Assert.Equal("libvirt refused: XML document failed to validate (error 92). Nothing was defined.", define.Message);
    }

    [Fact]
    public void Any_other_exception_is_a_bug_and_not_mapped()
    {
        Assert.Null(Cli.Program.Failure("transform", new InvalidOperationException("bug")));
        Assert.Null(Cli.Program.Failure("simulate-host", new ArgumentNullException("layout")));
    }

    [Fact]
    public void Through_the_CLI_an_unreadable_host_root_is_exit_2_naming_the_command()
    {
        var r = CliRunner.Run(null, "topology", "--host-root", "/nonexistent-host-root");
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.StartsWith("libvirt-nvlink topology: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Through_the_CLI_a_layout_the_writer_refuses_is_exit_2_and_writes_nothing()
    {
        using var dir = new TempDirectory();
        var printed = CliRunner.Run(null, "simulate-host", "--layout", "witherspoon-6gpu", "--print-layout", "-o", "unused").Stdout;
        Assert.Contains("\"powernv\"", printed, StringComparison.Ordinal);
        File.WriteAllText(dir["bad.json"], printed.Replace("\"powernv\"", "\"sparc\"", StringComparison.Ordinal));
        var r = CliRunner.Run(null, "simulate-host", "--layout", dir["bad.json"], "-o", dir["host"]);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("sparc", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir["host"]));
    }

    [Fact]
    public void Through_the_CLI_a_file_that_is_not_there_is_exit_2()
    {
        var r = CliRunner.Run(null, "explain", "/nonexistent/domain.xml");
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("/nonexistent/domain.xml", r.Stderr, StringComparison.Ordinal);
    }
}
