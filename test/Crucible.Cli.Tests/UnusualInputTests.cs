namespace Crucible.Cli.Tests;

/// <summary>
/// Inputs that are merely unusual, met by an analyst using the CLI (session 12's exploratory QA): each must end in a
/// one-line message naming file, line, column and rule with exit 2 (or succeed), never an internal error (exit 1).
/// </summary>
public sealed class UnusualInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-unusual-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    [Fact]
    public void DuplicateColumnNames_ExitTwoNamingTheHeaderCell_InEveryCommandThatLoadsTheFile()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        string dup = Path.Combine(_dir, "dup.csv");
        File.WriteAllLines(dup, File.ReadAllLines(prices).Select((l, i) => i == 0 ? "Date,A,A,C" : l));
        string portfolio = Path.Combine(_dir, "p.json");
        File.WriteAllText(portfolio, """{"name": "a", "weights": {"A": 1}}""");
        string[][] commands =
        [
            ["train", "--data", dup, "--steps", "2", "--out", Path.Combine(_dir, "m")],
            ["baseline", "--data", dup, "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", Path.Combine(_dir, "b.csv")],
            ["backtest", "--data", dup, "--portfolio", portfolio, "--generator", "bootstrap", "--out", Path.Combine(_dir, "bt.json")],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{args[0]}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains($"{dup}:1:3: error [CSV-E-HEADER]: duplicate column name 'A'", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
        Assert.False(File.Exists(Path.Combine(_dir, "b.csv")));
    }

    [Theory]
    [InlineData("bootstrap", "step")]
    [InlineData("fhs", "scenario")]
    public void ABaselineOfASeriesNamedLikeAScenarioColumn_IsRefusedAtItsHeaderCell(string generator, string name)
    {
        // a series named scenario or step wrote "scenario,step,A,step": a file of duplicate columns every reader refuses
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        string named = Path.Combine(_dir, "named.csv");
        File.WriteAllLines(named, File.ReadAllLines(prices).Select((l, i) => i == 0 ? $"Date,A,{name},C" : l));
        string csv = Path.Combine(_dir, "b.csv");
        var r = Crucible("baseline", "--data", named, "--generator", generator, "--count", "5", "--window", "2", "--out", csv);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stdout}{r.Stderr}");
        Assert.Contains($"{named}:1:3: error [reserved-column]: series '{name}' has the name of a scenario file's own column", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(csv));

        // the other series alone are fine
        Assert.Equal(0, Crucible("baseline", "--data", named, "--columns", "A,C", "--generator", generator, "--count", "5", "--window", "2", "--out", csv).Exit);
        Assert.Equal("scenario,step,A,C", File.ReadLines(csv).First());
    }

    [Fact]
    public void AnIsinOrRatingColumnBesideThePrices_TrainsOnTheColumnsNamed()
    {
        // a bank export: an ISIN and a rating column beside the prices. train --columns A,B read every column and exited
        // 2 at the ISIN's first cell (CSV-E-NUM) whatever --columns named; now only the columns named are parsed
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        string export = Path.Combine(_dir, "export.csv");
        File.WriteAllLines(export, File.ReadAllLines(prices).Select((l, i) =>
            i == 0 ? l.Replace("Date,", "Date,ISIN,", StringComparison.Ordinal) + ",Rating" : l.Insert(l.IndexOf(',', StringComparison.Ordinal), ",US78462F1030") + ",AA+"));
        var r = Crucible("train", "--data", export, "--columns", "A,B", "--steps", "2", "--out", Path.Combine(_dir, "m"));
        Assert.True(r.Exit == 0, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("× 2 series", r.Stdout, StringComparison.Ordinal);

        // the ISIN column named is still refused at its first cell, and a name the file lacks names the file's columns
        r = Crucible("train", "--data", export, "--columns", "A,ISIN", "--steps", "2", "--out", Path.Combine(_dir, "m2"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains($"{export}:2:2: error [CSV-E-NUM]", r.Stderr, StringComparison.Ordinal);
        r = Crucible("train", "--data", export, "--columns", "A,GLD", "--steps", "2", "--out", Path.Combine(_dir, "m3"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains($"{export}:1:1: error [CSV-E-HEADER]: column 'GLD' is selected but the header does not have it (value columns: ISIN, A, B, C, Rating)", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void APercentFileReadAsLogReturns_IsWarned_AndAPercentModelSaysItsScenariosAreFractions()
    {
        // Kenneth French's files are in percent: read as log returns they trained without a word on values 100 times too large
        string percent = Path.Combine(_dir, "percent.csv");
        File.WriteAllLines(percent, ["Date,Mkt,Rf", .. Enumerable.Range(0, 60).Select(i =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{new DateOnly(2020, 1, 6).AddDays(7 * i):yyyy-MM-dd},{1.3 * Math.Sin(1.7 * i):F2},{0.011 + (0.001 * (i % 3)):F3}"))]);
        const string Warning = ":1:2: warning [CSV-W-PERCENT]: column 'Mkt': ";
        var check = Crucible("data", "check", "--data", percent, "--input", "log-returns");
        Assert.True(check.Exit == 0, check.Stderr);
        Assert.Contains(percent + Warning, check.Stdout + check.Stderr, StringComparison.Ordinal);
        var train = Crucible("train", "--data", percent, "--input", "log-returns", "--steps", "2", "--out", Path.Combine(_dir, "m"));
        Assert.True(train.Exit == 0, train.Stderr);
        Assert.Contains(percent + Warning, train.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("'Rf'", train.Stderr, StringComparison.Ordinal);   // 0.011–0.013: a fraction or a percent rate, not told
        var right = Crucible("train", "--data", percent, "--input", "percent", "--steps", "2", "--out", Path.Combine(_dir, "m2"));
        Assert.True(right.Exit == 0, right.Stderr);
        Assert.DoesNotContain("CSV-W-PERCENT", right.Stderr, StringComparison.Ordinal);

        // the scenarios of a model trained on percent come back as log returns in fractions: generate says so on stderr
        const string Note = "note: the model was trained on percent returns; the scenarios (and VaR, ES and prices drawn from them) are log returns as fractions, ln(1 + r/100)";
        var generated = Crucible("generate", "--model", Path.Combine(_dir, "m2"), "--count", "5", "--out", Path.Combine(_dir, "g.csv"));
        Assert.True(generated.Exit == 0, generated.Stderr);
        Assert.Contains(Note, generated.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("note: the model was trained", generated.Stdout, StringComparison.Ordinal);
        var fromLogReturns = Crucible("generate", "--model", Path.Combine(_dir, "m"), "--count", "5", "--out", Path.Combine(_dir, "g2.csv"));
        Assert.True(fromLogReturns.Exit == 0, fromLogReturns.Stderr);
        Assert.DoesNotContain("note: the model was trained", fromLogReturns.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ASeriesNamedTwiceInColumns_ExitsTwo()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        string[][] commands =
        [
            ["train", "--data", prices, "--columns", "A,B,A", "--steps", "2", "--out", Path.Combine(_dir, "m")],
            ["baseline", "--data", prices, "--columns", "A,A", "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", Path.Combine(_dir, "b.csv")],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{args[0]}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [COLUMN-E]: column 'A' is named twice", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }

    [Fact]
    public void AThresholdOnASectionTheReportLacks_SaysWhyTheSectionIsMissing()
    {
        // one-step scenarios (a tabular model's) leave no next-step samples for the utility forecaster: the README's
        // threshold example utility.volatility.mse_ratio then used to exit 2 with only "which the report does not have"
        string real = TestPrices.Returns(Path.Combine(_dir, "real.csv"), 120), train = TestPrices.Returns(Path.Combine(_dir, "train.csv"), 200, seed: 6);
        var rng = new System.Random(3);
        string synthetic = Path.Combine(_dir, "synthetic.csv");
        File.WriteAllLines(synthetic, ["scenario,step,A,B", .. Enumerable.Range(1, 150).Select(i =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i},1,{0.01 * (rng.NextDouble() - 0.5):F6},{0.02 * (rng.NextDouble() - 0.5):F6}"))]);
        string thresholds = Path.Combine(_dir, "thresholds.json");
        File.WriteAllText(thresholds, """{"ks_max": {"max": 0.5}, "utility.volatility.mse_ratio": {"max": 1.5}}""");
        var r = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", train, "--thresholds", thresholds, "--out", Path.Combine(_dir, "report.json"));
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("threshold on 'utility.volatility.mse_ratio', which the report does not have: utility not computed (synthetic has 0 next-step samples", r.Stderr, StringComparison.Ordinal);

        File.WriteAllText(thresholds, """{"privacy.dcr_train_median": {"min": 0}}""");
        r = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--thresholds", thresholds, "--out", Path.Combine(_dir, "report.json"));
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("which the report does not have: privacy metrics need a train set", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "report.json")));
    }

    [Fact]
    public void AConditionFarBeyondTheTrainingStates_ExitsTwo_InsteadOfAnInternalErrorOrNaNScenarios()
    {
        // when TERM was constant in the state file, TERM=3e38 standardised overflowed float and ended in an internal error
        // (exit 1, "a condition value is infinite"); VIXCLS=3e38 stays finite in float, but the network's arithmetic
        // overflowed on it and the windows came out NaN (exit 0, a scenario file of NaN). Both are now refused before
        // sampling, as more than SequenceGenerator.MaxConditionStandardDeviations from the training mean; an ordinary
        // value still samples
        var (prices, state) = TestPrices.Sequence(_dir);
        string config = Path.Combine(_dir, "small.json"), small = Path.Combine(_dir, "small"), model = Path.Combine(_dir, "m");
        File.WriteAllText(config, """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,TERM",
            "--steps", "2", "--config", config, "--out", small);
        Assert.True(t.Exit == 0, t.Stderr);
        t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS", "--steps", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string output = Path.Combine(_dir, "s.csv");
        var r = Crucible("generate", "--model", small, "--count", "3", "--condition", "TERM=3e38", "--guidance", "1", "--out", output);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("error [condition-value]: condition TERM = 3E+38 is ", r.Stderr, StringComparison.Ordinal);
        r = Crucible("generate", "--model", model, "--count", "3", "--condition", "VIXCLS=3e38", "--guidance", "1", "--out", output);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("error [condition-value]: condition VIXCLS = 3E+38 is ", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        r = Crucible("generate", "--model", model, "--count", "3", "--condition", "VIXCLS=45", "--guidance", "1", "--out", output);
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.DoesNotContain("NaN", File.ReadAllText(output), StringComparison.Ordinal);
    }

    [Fact]
    public void ShadowModelsOfASequenceModel_SayTheKindIsWrong_NotThatAJsonPropertyCannotBeMapped()
    {
        // the tabular loader deserialised the whole manifest before it checked the kind, so a sequence model folder gave
        // "invalid manifest: The JSON property 'window' could not be mapped to any .NET member …"
        var (prices, _) = TestPrices.Sequence(_dir);
        string model = Path.Combine(_dir, "seq");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--steps", "1", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string returns = TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 80);
        var r = Crucible("evaluate", "--real", returns, "--synthetic", returns, "--train", returns, "--model", model, "--shadow-models", "1",
            "--out", Path.Combine(_dir, "report.json"));
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains($"{Path.Combine(model, "manifest.json")}: error [model-kind]: model kind 'sequence' is not tabular", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelOfAnUnknownKind_IsAModelKindError_NamingItsManifest_ForEveryCommandThatReadsTheKind()
    {
        // ReadKind gives a ModelKind: a kind no generator has is refused where it is read, not passed on as a string
        string model = Path.Combine(_dir, "regime-model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "manifest.json"), """{"format": "crucible-model/1", "kind": "regime"}""");
        File.WriteAllBytes(Path.Combine(model, "weights.safetensors"), [0]);
        foreach (var args in new[]
                 {
                     new[] { "generate", "--model", model, "--count", "3", "--out", Path.Combine(_dir, "s.csv") },
                     ["model", "register", "--model", model],
                 })
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, r.Stderr);
            Assert.Contains($"{Path.Combine(model, "manifest.json")}: error [model-kind]: model kind 'regime' is not tabular or sequence", r.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TrainOut_AFolderHoldingOtherFiles_IsRefusedAndKeptIntact_WhileAModelFolderIsStillReplaced()
    {
        // the model folder was replaced by renaming the old folder aside and deleting it recursively, whatever it held:
        // train --out ~/Documents (or --out .) deleted the analyst's files; a file as --out was an internal error
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        string folder = Path.Combine(_dir, "work");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "keep me");
        var r = Crucible("train", "--data", prices, "--steps", "2", "--out", folder);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains($"{Path.GetFullPath(folder)}: error [OUT-E]: the folder exists and holds notes.txt, which is not a model's file", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir, ".work.*"));

        r = Crucible("train", "--data", prices, "--steps", "2", "--out", prices);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains($"error [OUT-E-INPUT]: --out would overwrite the input {prices}", r.Stderr, StringComparison.Ordinal); // found before training
        r = Crucible("train", "--data", prices, "--steps", "2", "--out", Path.Combine(_dir, "work", "notes.txt"));
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("error [OUT-E]: this is a file, not a folder", r.Stderr, StringComparison.Ordinal); // a file that is not an input

        string model = Path.Combine(_dir, "model");
        Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", model).Exit);
        r = Crucible("train", "--data", prices, "--steps", "2", "--seed", "5", "--out", model);
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.Equal(["manifest.json", "weights.safetensors"], Directory.EnumerateFiles(model).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void OutAFolder_ExitsTwoBeforeWritingAnything_InsteadOfAnInternalErrorAndAStrayMetadataFile()
    {
        // the rename over a folder failed at the very end: exit 1 ("Is a directory"), and generate had already written
        // OUT.meta.json beside it
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", model).Exit);
        string folder = Path.Combine(_dir, "out");
        Directory.CreateDirectory(folder);
        var r = Crucible("generate", "--model", model, "--count", "3", "--out", folder);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains($"{folder}: error [OUT-E]: this is a folder, not a file", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(folder + ".meta.json"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir, ".out.*"));

        string returns = TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 80);
        r = Crucible("evaluate", "--real", returns, "--synthetic", returns, "--out", folder);
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains($"{folder}: error [OUT-E]: this is a folder, not a file", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOutputPathTheSystemRefuses_ExitsTwoNamingThePathAndTheReason()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var cases = new List<(string[] Args, string Expected)>
        {
            (["baseline", "--data", prices, "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", Path.Combine(file, "b.csv")],
                $"{Path.Combine(file, "b.csv")}: error [OUT-E-WRITE]: cannot write {Path.Combine(file, "b.csv")}: {file} is a file, not a folder"),
            (["train", "--data", prices, "--steps", "2", "--out", Path.Combine(file, "m")],
                $"{Path.Combine(file, "m")}: error [OUT-E-WRITE]: cannot write {Path.Combine(file, "m")}: {file} is a file, not a folder"),
        };
        if (OperatingSystem.IsLinux())
            cases.Add((["baseline", "--data", prices, "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", "/proc/crucible-b.csv"], "/proc/crucible-b.csv: error [OUT-E-WRITE]: cannot write /proc/crucible-b.csv: "));
        foreach (var (args, expected) in cases)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{args[0]}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        }

        // a home folder that cannot be created: the same, naming it
        var home = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(file, "home") },
            "baseline", "--data", prices, "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", Path.Combine(_dir, "b.csv"));
        Assert.True(home.Exit == 2, home.Stderr);
        Assert.Contains($"error [OUT-E-WRITE]: cannot write {Path.Combine(file, "home")}: {file} is a file, not a folder", home.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("dpm2m")]
    public void EtaWithASamplerThatDoesNotUseIt_ExitsTwoNamingTheOption(string sampler)
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", model).Exit);
        var r = Crucible("generate", "--model", model, "--count", "2", "--sampler", sampler, "--eta", "0.5", "--out", Path.Combine(_dir, "s.csv"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains($"error [OPT-E]: --eta applies to --sampler ddim only (DDIM's η); --sampler {sampler} does not use it", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "s.csv")));
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "2", "--sampler", "ddim", "--eta", "0.5", "--out", Path.Combine(_dir, "s.csv")).Exit);
    }

    [Fact]
    public void ASeedAboveTwoToThe53_IsKeptExactlyInTheRunManifest_AndRecomputes()
    {
        // 2^53 + 1 used to be written 2^53 in the config's canonical JSON, so --recompute trained with another seed
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--steps", "3", "--seed", "9007199254740993", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string manifest = Directory.GetFiles(Path.Combine(_dir, "home", "runs"), "*.json").Single();
        string text = File.ReadAllText(manifest);
        Assert.Contains("\"seed\":9007199254740993", text, StringComparison.Ordinal);
        Assert.DoesNotContain("9007199254740992", text, StringComparison.Ordinal);
        var v = Crucible("verify-run", manifest, "--recompute");
        Assert.True(v.Exit == 0, v.Stdout + v.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", v.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ACountNearIntMaxValue_ExitsTwo_NeverAnOverflowOrOutOfMemory()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", model).Exit);
        string max = int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[][] commands =
        [
            ["generate", "--model", model, "--count", max, "--out", Path.Combine(_dir, "g.csv")],
            ["baseline", "--data", prices, "--generator", "bootstrap", "--count", max, "--window", "5", "--out", Path.Combine(_dir, "b.csv")],
            ["baseline", "--data", prices, "--generator", "fhs-longrun", "--count", "1000000000", "--window", "5", "--out", Path.Combine(_dir, "b.csv")],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [count]: ", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("values one draw holds in memory", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "g.csv")));
        Assert.False(File.Exists(Path.Combine(_dir, "b.csv")));
    }

    [Theory]
    [InlineData("fhs")]
    [InlineData("fhs-longrun")]
    [InlineData("garch-copula")]
    public void AConstantSeries_ExitsTwoForTheGarchGenerators(string generator)
    {
        // a price that never moves used to end in an AggregateException from the parallel GARCH fits (exit 1)
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 80), flat = Path.Combine(_dir, "flat.csv");
        File.WriteAllLines(flat, File.ReadAllLines(prices).Select((l, i) => i == 0 ? l : string.Join(',', l.Split(',').Select((c, j) => j == 2 ? "50" : c))));
        var r = Crucible("baseline", "--data", flat, "--generator", generator, "--count", "5", "--window", "2", "--out", Path.Combine(_dir, "b.csv"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [constant-series]: series 'B' does not vary: a GARCH(1,1) cannot be fitted to it", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ADemoFolderTheSystemRefuses_ExitsTwoBeforeTraining()
    {
        // the demo used to train for minutes and then fail to save (exit 1)
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Crucible("demo", "--out", Path.Combine(file, "demo"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains($"error [OUT-E-WRITE]: cannot write {Path.Combine(file, "demo")}: {file} is a file, not a folder", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("data:", r.Stdout, StringComparison.Ordinal); // stopped before loading the data and training
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());
    }

    [Fact]
    public void AnEmptyPath_ExitsTwoNamingTheOption_NeverAnInternalError()
    {
        // an empty path (a shell variable that was not set: --out "$OUT") reached the library's ArgumentException and
        // ended as "internal error" (exit 1) in train, stress, ensemble, evaluate, model-card and verify-run
        string p = Path.Combine(_dir, "p.json");
        File.WriteAllText(p, """{"name": "a", "weights": {"A": 1}}""");
        string s = Path.Combine(_dir, "s.csv");
        string[][] commands =
        [
            ["train", "--data", "", "--steps", "2", "--out", Path.Combine(_dir, "m")],
            ["train", "--data", TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), "--steps", "2", "--out", ""],
            ["stress", "--scenarios", "", "--portfolio", p, "--out", Path.Combine(_dir, "r.json")],
            ["stress", "--scenarios", s, "--portfolio", "", "--out", Path.Combine(_dir, "r.json")],
            ["ensemble", "--scenarios", s, "", "--portfolio", p, "--out", Path.Combine(_dir, "e.json")],
            ["model-card", "--model", "", "--out", Path.Combine(_dir, "c.md")],
            ["verify-run", ""],
        ];
        foreach (var args in commands)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [OPT-E]: ", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(" is empty: give a path", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData(";")]
    public void ServeWithAUrlKestrelCannotTake_ExitsTwoNamingTheOption_BeforeStarting(string urls)
    {
        // Kestrel's FormatException ("Invalid url") or ArgumentOutOfRangeException (a port above 65535) ended serve as
        // "internal error" (exit 1), after the host had logged its stack trace
        var r = Crucible("serve", "--urls", urls);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stdout}{r.Stderr}");
        Assert.Contains("error [OPT-E]: --urls", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ServeOnAPortInUse_ExitsTwoNamingTheAddress()
    {
        // Kestrel's "address already in use" (the machine's state, not a bug) was an internal error (exit 1)
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var r = Crucible("serve", "--urls", $"http://127.0.0.1:{port}");
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stdout}{r.Stderr}");
        Assert.Contains($"error [OPT-E]: --urls: cannot listen on http://127.0.0.1:{port}", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        // the one refusal only: the host logged "Hosting failed to start" with Kestrel's stack trace on stdout before it
        foreach (var text in new[] { "Hosting failed to start", "Unhandled exception", "AddressInUseException", "   at " })
            Assert.DoesNotContain(text, r.Stdout + r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
