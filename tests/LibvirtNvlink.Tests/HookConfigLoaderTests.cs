using LibvirtNvlink.Config;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Tests;

public class HookConfigLoaderTests
{
    private const string Warn = "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><policy incomplete='warn'/></libvirt-nvlink>";
    private const string Invalid = "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><policy incomplete='maybe'/></libvirt-nvlink>";

    private readonly string _dir = TestRunTemp.NewDirectory("config-");

    private string ConfigPath => Path.Combine(_dir, "config.xml");

    private string StateDir => Path.Combine(_dir, "state");

    [Fact]
    public void A_missing_file_gives_the_defaults_and_records_nothing()
    {
        Assert.Equal(HookConfig.Default, HookConfigLoader.Load(ConfigPath, StateDir));
        Assert.False(Directory.Exists(StateDir));
    }

    [Fact]
    public void A_valid_file_is_recorded_under_the_schema_fingerprint_and_loads_the_same_from_the_record()
    {
        File.WriteAllText(ConfigPath, Warn);
        var first = HookConfigLoader.Load(ConfigPath, StateDir);
        Assert.Equal(IncompletePolicy.Warn, first.Policy);
        var record = HookConfigLoader.ValidatedCopyPath(StateDir);
        Assert.Equal(Warn, File.ReadAllText(record));
        Assert.Matches("config\\.validated-[0-9a-f]{16}\\.xml$", record);
        Assert.Contains(HookConfig.SchemaFingerprint, record, StringComparison.Ordinal);
        Assert.Equal(first, HookConfigLoader.Load(ConfigPath, StateDir));
    }

    [Fact]
    public void A_file_changed_after_it_was_recorded_is_validated_again_and_refused_naming_the_file()
    {
        File.WriteAllText(ConfigPath, Warn);
        HookConfigLoader.Load(ConfigPath, StateDir);
        File.WriteAllText(ConfigPath, Invalid);
        var e = Assert.Throws<HookConfigException>(() => HookConfigLoader.Load(ConfigPath, StateDir));
        Assert.Contains(ConfigPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid libvirt-nvlink configuration", e.Message, StringComparison.Ordinal);
        Assert.Equal(Warn, File.ReadAllText(HookConfigLoader.ValidatedCopyPath(StateDir)));
    }

    [Fact]
    public void A_file_that_is_not_even_well_formed_is_a_configuration_error_not_a_domain_XML_error()
    {
        File.WriteAllText(ConfigPath, "<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'>");
        var e = Assert.Throws<HookConfigException>(() => HookConfigLoader.Load(ConfigPath, StateDir));
        Assert.Contains(ConfigPath, e.Message, StringComparison.Ordinal);
        Assert.IsType<DomainXmlException>(e.InnerException);
    }

    [Fact]
    public void A_record_made_under_another_schema_is_not_proof_of_validity()
    {
        File.WriteAllText(ConfigPath, Invalid);
        Directory.CreateDirectory(StateDir);
        File.WriteAllText(Path.Combine(StateDir, "config.validated-0000000000000000.xml"), Invalid);
        Assert.Throws<HookConfigException>(() => HookConfigLoader.Load(ConfigPath, StateDir));
    }

    [Fact]
    public void Recording_a_text_under_this_schema_removes_copies_made_under_earlier_ones()
    {
        File.WriteAllText(ConfigPath, Warn);
        Directory.CreateDirectory(StateDir);
        File.WriteAllText(Path.Combine(StateDir, "config.validated-0000000000000000.xml"), Warn);
        HookConfigLoader.Load(ConfigPath, StateDir);
        Assert.Equal([HookConfigLoader.ValidatedCopyPath(StateDir)], Directory.GetFiles(StateDir));
    }

    [Fact]
    public void A_state_directory_that_cannot_be_written_only_costs_a_validation_per_load()
    {
        File.WriteAllText(ConfigPath, Warn);
        var notADirectory = Path.Combine(_dir, "file");
        File.WriteAllText(notADirectory, "");
        Assert.Equal(IncompletePolicy.Warn, HookConfigLoader.Load(ConfigPath, notADirectory).Policy);
        Assert.Equal(IncompletePolicy.Warn, HookConfigLoader.Load(ConfigPath, notADirectory).Policy);
    }
}
