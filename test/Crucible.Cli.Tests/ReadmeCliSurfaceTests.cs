using System.CommandLine;

namespace Crucible.Cli.Tests;

/// <summary>
/// The READMEs against the CLI they describe, through the tool's own command tree (<see cref="CrucibleCommand.Build"/>),
/// so a command or option added, renamed or removed later is picked up without editing a list here: every
/// <c>crucible …</c> line of README.md and the project READMEs names a command that exists and options it accepts
/// (a pasteable code line must parse as a whole), and every command and option of the tool is described in README.md
/// (each command's <c>--json</c> where that command itself is named, not by a list of commands).
/// </summary>
public class ReadmeCliSurfaceTests
{
    private static readonly Command Root = CrucibleCommand.Build();

    private static string RepoRoot() => TestRepo.Root();

    private static string MainReadme() => File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));

    /// <summary>README.md and the READMEs of the projects, benchmarks and data folders, as (relative path, text).</summary>
    private static IEnumerable<(string Source, string Text)> Readmes()
    {
        var root = RepoRoot();
        yield return ("README.md", MainReadme());
        foreach (var folder in new[] { "src", "bench", "data", "examples", "docs" })
        {
            var dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*.md", SearchOption.AllDirectories)
                         .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                         .Order(StringComparer.Ordinal))
            {
                yield return (Path.GetRelativePath(root, file), File.ReadAllText(file));
            }
        }
    }

    private static List<string> Problems(string markdown, string source)
        => ReadmeCli.Extract(markdown, source, Root).SelectMany(inv => ReadmeCli.Problems(Root, inv)).ToList();

    [Fact]
    public void EveryReadmeInvocation_NamesACommand_WithOptionsItAccepts()
    {
        var problems = Readmes().SelectMany(r => Problems(r.Text, r.Source)).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheDesignsCliSurface_Exists()
    {
        // ARCHITECTURE.md's table "the surface that must exist": each command and option it names is one the CLI has
        var path = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "design", "ARCHITECTURE.md"));
        Assert.True(File.Exists(path), $"{path} is missing: this test needs ../shared/design next to the repository");
        var invocations = ReadmeCli.Extract(File.ReadAllText(path), "ARCHITECTURE.md", Root);
        Assert.True(invocations.Count >= 10, $"only {invocations.Count} crucible invocations read from {path}");
        var problems = invocations.SelectMany(inv => ReadmeCli.Problems(Root, inv)).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryCommandAndOption_IsDescribedInTheReadme()
    {
        var missing = ReadmeCli.Undescribed(Root, MainReadme(), "README.md");
        Assert.True(missing.Count == 0, "README.md does not describe: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryCommandAndOption_HasAHelpDescription()
    {
        // `crucible CMD --help` describes every option it lists (the help is built from these definitions)
        var bare = ReadmeCli.Commands(Root).SelectMany(c => c.Command.Options.Where(o => string.IsNullOrWhiteSpace(o.Description)).Select(o => $"{c.Path} {o.Name}")
                .Concat(string.IsNullOrWhiteSpace(c.Command.Description) ? [c.Path] : []))
            .Concat(Root.Options.Where(o => string.IsNullOrWhiteSpace(o.Description)).Select(o => $"crucible {o.Name}"))
            .ToList();
        Assert.True(bare.Count == 0, "no help description: " + string.Join(", ", bare));
    }

    [Fact]
    public void TheReadme_NamesEveryTopLevelCommand_InInvocationsTheCheckReads()
    {
        // the extraction is not vacuous: README.md's invocations reach every top-level command, from code lines too
        var invocations = ReadmeCli.Extract(MainReadme(), "README.md", Root);
        var reached = invocations.Where(i => i.Explicit).Select(i => ReadmeCli.Resolve(Root, i.Words)).Where(r => r.Next > 0)
            .Select(r => ReadmeCli.Path(Root, r.Command).Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Root.Subcommands.Select(c => c.Name).Order(StringComparer.Ordinal), reached.Order(StringComparer.Ordinal));
        Assert.Contains(invocations, i => i.Complete);
    }

    [Fact]
    public void SeededDrift_ARenamedOptionInTheReadme_IsCaught()
    {
        var readme = MainReadme();
        Assert.Contains("--sampling-steps 50", readme, StringComparison.Ordinal);
        var drifted = readme.Replace("--sampling-steps", "--sampler-steps", StringComparison.Ordinal);

        var problems = Problems(drifted, "README.md");
        Assert.Contains(problems, p => p.Contains("'generate' has no option --sampler-steps", StringComparison.Ordinal));
        // the option the README no longer names is then undescribed
        Assert.Contains("generate --sampling-steps", ReadmeCli.Undescribed(Root, drifted, "README.md"));
    }

    [Fact]
    public void SeededDrift_AnOptionTheReadmeNeverNames_IsCaught()
    {
        var readme = MainReadme();
        Assert.Contains("--checkpoint-every", readme, StringComparison.Ordinal);
        var drifted = readme.Replace("--checkpoint-every", "", StringComparison.Ordinal);
        Assert.Contains("train --checkpoint-every", ReadmeCli.Undescribed(Root, drifted, "README.md"));
    }

    [Fact]
    public void SeededDrift_ACommandsOwnJsonDescriptionRemoved_IsCaught_ThoughTheSharedListStillNamesIt()
    {
        // evaluate's own section opens with its --json document; the shared "A script reads `--json`" line also lists
        // `evaluate` beside `--json`, which must not count as its description
        var readme = MainReadme();
        const string own = "- **`evaluate`** (`--json`: one JSON document";
        Assert.Contains(own, readme, StringComparison.Ordinal);
        Assert.Contains("`train`, `generate`, `evaluate`, `stress`", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("evaluate --json", ReadmeCli.Undescribed(Root, readme, "README.md"));
        var drifted = readme.Replace(own, "- **`evaluate`** (one JSON document", StringComparison.Ordinal);
        Assert.Contains("evaluate --json", ReadmeCli.Undescribed(Root, drifted, "README.md"));

        // model-card: its own sentence removed, the shared list and the registry bullet (which names `model-card`) remain
        const string card = "`model-card --json` prints";
        Assert.Contains(card, readme, StringComparison.Ordinal);
        Assert.Contains("model-card --json", ReadmeCli.Undescribed(Root, readme.Replace(card, "It prints", StringComparison.Ordinal), "README.md"));
    }

    [Theory]
    [InlineData("- `train`, `stress --json` print a document", "train", false)]
    [InlineData("- `train`, `stress --json` print a document", "stress", true)]
    [InlineData("- **`stress`**: `--json` prints the report", "stress", true)]
    [InlineData("- **`stress`** and `train`: `--json` prints the report", "stress", false)]
    [InlineData("- **`stress`** prints a report.\n\n`--json` prints it as JSON", "stress", false)]
    [InlineData("```bash\ncrucible stress --scenarios s.csv --portfolio p.json --out r.json --json\n```", "stress", true)]
    public void AnOwnDescriptionOption_IsDescribedOnlyForTheCommandNamedLastBeforeIt(string markdown, string command, bool described)
    {
        var c = Root.Subcommands.Single(s => s.Name == command);
        Assert.Equal(described, ReadmeCli.DescribedForItself(Root, c, "--json", markdown));
    }

    [Theory]
    [InlineData("`crucible evaluation --real r.csv`", "no command 'evaluation'")]
    [InlineData("`crucible model show --id X`", "'model' has no sub-command 'show'")]
    [InlineData("`audit verify --hom H`", "'audit verify' has no option --hom")]
    [InlineData("`crucible stress --reverse/--adversarial-x --model`", "'stress' has no option --adversarial-x")]
    [InlineData("```bash\ncrucible generate --model m \\\n  --count many --out s.csv\n```", "the CLI's parser refuses it")]
    [InlineData("```bash\ncrucible demo --out d | crucible stres --scenarios s.csv\n```", "no command 'stres'")]
    public void SeededDrift_InASnippet_IsCaught(string markdown, string expected)
    {
        var problems = Problems(markdown, "snippet.md");
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("`crucible audit rotate-key [--home H | --store postgres:…] [--reason TEXT]`")]
    [InlineData("`crucible serve --urls http://127.0.0.1:8080 [--home DIR]\n[--store sqlite:DIR|postgres:CONNSTRING] [--api-keys FILE]`")]
    [InlineData("```bash\ncrucible generate --model seqmodel --count 1000 --stress \"gfc-2008; SPY<=-20%\" --sampler dpm2m --out gfc.csv 2> log\n```")]
    [InlineData("`dotnet run --project src/Crucible.Cli -- --help`")]
    [InlineData("the `stress` section of `report.json`, and `./crucible-demo`")]
    public void ASoundSnippet_HasNoProblem(string markdown)
    {
        Assert.Empty(Problems(markdown, "snippet.md"));
    }
}
