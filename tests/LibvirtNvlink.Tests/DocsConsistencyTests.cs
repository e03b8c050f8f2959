using System.Text.RegularExpressions;

namespace LibvirtNvlink.Tests;

/// <summary>The documentation matches the code: every finding code is explained, every relative link resolves.</summary>
public partial class DocsConsistencyTests
{
    private static string Root => CliRunner.RepoRoot;

    /// <summary>
    /// The repository's own files: no build output, no VCS internals, no dependencies. Symlinks are not followed:
    /// the simulated sysfs trees under examples/ are full of links that lead back up the tree, as the kernel's do.
    /// </summary>
    private static IEnumerable<string> RepositoryFiles(string pattern) =>
        Directory.EnumerateFiles(Root, pattern, new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Where(f => !Path.GetRelativePath(Root, f).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" or ".git" or "node_modules" or "artifacts"));

    // A finding is made as new Finding(Severity.X, CODE, ...), new(Severity.X, CODE, ...) or through a helper
    // declared "static Finding Name(string code, ...)"; CODE is a literal or a choice between literals.
    [GeneratedRegex(@"new(?: Finding)?\(\s*Severity\.\w+\s*,\s*([^,]+),")]
    private static partial Regex FindingConstruction();

    [GeneratedRegex(@"static Finding (\w+)\(string code")]
    private static partial Regex FindingHelper();

    [GeneratedRegex("\"([a-z0-9-]+)\"")]
    private static partial Regex Literal();

    [GeneratedRegex(@"`([a-z0-9-]+)`")]
    private static partial Regex CodeSpan();

    /// <summary>[text](target), not an image, not inside a code span.</summary>
    [GeneratedRegex(@"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"\bdocs/[A-Za-z0-9._-]+\.md\b")]
    private static partial Regex DocsPath();

    private static SortedSet<string> EmittedFindingCodes()
    {
        var sources = RepositoryFiles("*.cs").Where(f => Path.GetRelativePath(Root, f).StartsWith("src", StringComparison.Ordinal))
            .Select(File.ReadAllText).ToList();
        var helpers = sources.SelectMany(s => FindingHelper().Matches(s)).Select(m => m.Groups[1].Value).ToHashSet();
        var arguments = sources.SelectMany(s => FindingConstruction().Matches(s).Select(m => m.Groups[1].Value)
            .Concat(helpers.SelectMany(h => Regex.Matches(s, $@"\b{h}\(\s*([^,]+),").Select(m => m.Groups[1].Value))));
        var codes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var argument in arguments)
        {
            var literals = Literal().Matches(argument).Select(m => m.Groups[1].Value).ToList();
            // The helpers' own declarations pass their parameter on; anything else must be literal to be checked.
            Assert.True(literals.Count > 0 || argument.Trim() is "code" or "string code", $"a finding code that is not a literal: {argument}");
            codes.UnionWith(literals);
        }
        return codes;
    }

    [Fact]
    public void Every_finding_code_the_code_can_emit_is_documented_in_docs_findings_md()
    {
        var codes = EmittedFindingCodes();
        // The scan itself must work: both construction forms are in use today.
        Assert.Contains("gpu-ram-online", codes);
        Assert.Contains("not-pseries", codes);
        var documented = CodeSpan().Matches(File.ReadAllText(Path.Combine(Root, "docs", "findings.md"))).Select(m => m.Groups[1].Value).ToHashSet();
        var missing = codes.Where(c => !documented.Contains(c)).ToList();
        Assert.True(missing.Count == 0, $"finding codes missing from docs/findings.md: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_relative_link_in_the_repositorys_markdown_resolves()
    {
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var file in RepositoryFiles("*.md"))
        {
            foreach (Match m in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var target = m.Groups[1].Value;
                if (target.StartsWith('#') || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                var path = target.Split('#')[0];
                checkedLinks++;
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                if (!File.Exists(resolved) && !Directory.Exists(resolved)) broken.Add($"{Path.GetRelativePath(Root, file)}: {target}");
            }
        }
        Assert.True(checkedLinks > 0, "no relative links found: the scan is broken");
        Assert.True(broken.Count == 0, "links that lead nowhere:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void Every_docs_page_named_in_code_or_docs_exists()
    {
        var files = RepositoryFiles("*.md").Concat(RepositoryFiles("*.cs")).Concat(RepositoryFiles("*.sh"));
        var missing = files.SelectMany(f => DocsPath().Matches(File.ReadAllText(f)).Select(m => (File: f, Page: m.Value)))
            .Where(x => !File.Exists(Path.Combine(Root, x.Page)))
            .Select(x => $"{Path.GetRelativePath(Root, x.File)}: {x.Page}").Distinct().ToList();
        Assert.True(missing.Count == 0, "pages that do not exist:\n" + string.Join("\n", missing));
    }
}
