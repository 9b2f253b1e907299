namespace Crucible.Cli.Tests;

/// <summary>
/// <c>verify-run --recompute</c> reads two recorded outputs back as JSON: a generate run's <c>FILE.meta.json</c> (its
/// <c>created</c> time and library version) and a train run's model <c>manifest.json</c> (its library version). Until
/// session 28 a malformed or wrongly typed file there was an internal error (exit 1, "see the log"); it is exit 2 naming
/// the file, at the line and column System.Text.Json gives, with the rule, and nothing is printed as recomputed.
/// </summary>
public sealed class RecomputeRecordedJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-recompute-recorded-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Stdout, string Stderr) Crucible(params string[] args) => CliProcess.Run(args);

    private static string ManifestOf(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim().Split(' ')[0];

    // verify-run --recompute on a run whose recorded output `file` holds `edited`: exit 2, its one error line (nothing
    // printed as recomputed, nothing written beside it); the file restored after
    private string Refused(string manifest, string file, string edited)
    {
        var original = File.ReadAllBytes(file);
        var before = Directory.GetFiles(_dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        File.WriteAllText(file, edited);
        try
        {
            var r = Crucible("verify-run", manifest, "--recompute");
            Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Equal("", r.Stdout);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, Directory.GetFiles(_dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray());
            return Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.WriteAllBytes(file, original);
        }
    }

    // the 1-based line of `text` that contains `needle`
    private static int LineOf(string text, string needle) => text[..text.IndexOf(needle, StringComparison.Ordinal)].Count(c => c == '\n') + 1;

    [Fact]
    public void AMalformedOrWronglyTypedRecordedFile_IsExitTwo_NamingTheFileLineAndColumn()
    {
        string home = Path.Combine(_dir, "home"), model = Path.Combine(_dir, "model"), csv = Path.Combine(_dir, "s.csv");
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        var train = Crucible("train", "--data", prices, "--steps", "6", "--config", config, "--seed", "2", "--home", home, "--out", model);
        Assert.True(train.Exit == 0, train.Stderr);
        var generate = Crucible("generate", "--model", model, "--count", "16", "--sampling-steps", "5", "--seed", "5", "--home", home, "--out", csv);
        Assert.True(generate.Exit == 0, generate.Stderr);
        string run = ManifestOf(generate.Stdout), meta = Path.Combine(_dir, "s.meta.json");
        var ok = Crucible("verify-run", run, "--recompute");
        Assert.True(ok.Exit == 0, ok.Stdout + ok.Stderr);

        // the scenario metadata: malformed (a doubled comma), a key of the wrong type, a created time that is not one
        string text = File.ReadAllText(meta);
        int seedLine = LineOf(text, "\"seed\": 5,");
        var malformed = Refused(run, meta, text.Replace("\"seed\": 5,", "\"seed\": 5,,", StringComparison.Ordinal));
        Assert.StartsWith($"{meta}:{seedLine}:", malformed, StringComparison.Ordinal);
        Assert.Contains(": error [scenario-metadata]: the recorded scenario metadata is not its JSON: ", malformed, StringComparison.Ordinal);

        var typed = Refused(run, meta, text.Replace("\"seed\": 5,", "\"seed\": \"five\",", StringComparison.Ordinal));
        Assert.StartsWith($"{meta}:{seedLine}:", typed, StringComparison.Ordinal);
        Assert.Contains(": error [scenario-metadata]: the recorded scenario metadata is not its JSON: ", typed, StringComparison.Ordinal);
        Assert.Contains("Path: $.seed", typed, StringComparison.Ordinal);

        var created = System.Text.RegularExpressions.Regex.Replace(text, "\"created\": \"[^\"]*\"", "\"created\": \"yesterday\"");
        Assert.NotEqual(text, created);
        Assert.Equal($"{meta}: error [scenario-metadata]: the recorded scenario metadata's created is not a time (RFC 3339, as generate writes it): 'yesterday'",
            Refused(run, meta, created));

        // the model manifest of the train run: malformed, not an object, a library_version that is not a string
        string trainRun = ManifestOf(train.Stdout), manifest = Path.Combine(model, "manifest.json");
        string recorded = File.ReadAllText(manifest);
        int versionLine = LineOf(recorded, "\"library_version\":");
        var broken = Refused(trainRun, manifest, recorded.Replace("\"library_version\":", "\"library_version\"", StringComparison.Ordinal));
        Assert.StartsWith($"{manifest}:{versionLine}:", broken, StringComparison.Ordinal);
        Assert.Contains(": error [model-manifest]: the recorded model manifest is not valid JSON: ", broken, StringComparison.Ordinal);
        Assert.Equal($"{manifest}:1:1: error [model-manifest]: the recorded model manifest is not a JSON object", Refused(trainRun, manifest, "[]"));
        var numbered = System.Text.RegularExpressions.Regex.Replace(recorded, "\"library_version\": \"[^\"]*\"", "\"library_version\": 3");
        Assert.NotEqual(recorded, numbered);
        Assert.Equal($"{manifest}: error [model-manifest]: the recorded model manifest's library_version is not a string: 3", Refused(trainRun, manifest, numbered));

        // restored: both runs recompute as before
        Assert.Equal(0, Crucible("verify-run", run, "--recompute").Exit);
        Assert.Equal(0, Crucible("verify-run", trainRun, "--recompute").Exit);
    }
}
