using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Diffusion;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible generate --model MODEL --count N [--sampler ddim|ddpm|dpm2m] [--spacing linear|angle] [--sampling-steps K] [--eta E]
/// [--condition NAME=VALUE …] [--guidance G] [--stress SPEC] [--seed S] [--prices [--start-prices FILE.json|unit]] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out FILE.csv</c>:
/// draws N scenarios in original units (log returns; a sequence model's scenarios are W-day windows, one row per day,
/// conditioned on the named economic-state values or a stress specification under classifier-free guidance of weight G, its moves enforced by constraint guidance), writes <c>FILE.csv</c> and <c>FILE.meta.json</c> and appends
/// <c>scenarios.generated</c> to the audit log in the home folder, or with <c>--store postgres:…</c> to that database's log
/// (a model id prefix is then resolved through that database's registry).
/// </summary>
internal static class GenerateCommand
{
    /// <summary>The options of one <c>generate</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Model = new("--model")
        {
            Description = "The model folder written by crucible train, or a registered model's id (or unique prefix of ≥ 8 hex digits), hash-checked on load",
            Required = true,
        };

        public readonly Option<int> Count = new("--count") { Description = "The number of scenarios", Required = true };

        public readonly Option<string> Sampler = new("--sampler")
        {
            Description = "ddim (default), ddpm (all T steps), or dpm2m (DPM-Solver++(2M): DDIM with a second-order correction)",
            DefaultValueFactory = _ => "ddim",
        };

        public readonly Option<string> Spacing = new("--spacing")
        {
            Description = "Which K timesteps DDIM and dpm2m visit: linear (default, evenly in t) or angle (evenly in arccos √ᾱ)",
            DefaultValueFactory = _ => "linear",
        };

        public readonly Option<int?> SamplingSteps = new("--sampling-steps")
        {
            Description = "Reverse steps K of ddim and dpm2m (default 50, or all T of a model trained with fewer; ddpm always takes all T)",
        };

        public readonly Option<double> Eta = new("--eta") { Description = "DDIM's η in [0, 1] (default 0: deterministic given the noise); --sampler ddim only" };

        public readonly Option<ulong> Seed = new("--seed") { Description = "The sampling seed (default 0)" };

        public readonly Option<string[]> Condition = new("--condition")
        {
            Description = "Sequence models: condition on a state value, NAME=VALUE (repeatable; names from the model's condition features, e.g. VIXCLS=45)",
        };

        public readonly Option<double?> Guidance = new("--guidance")
        {
            Description = "Sequence models: the classifier-free guidance weight w ≥ 0 (0 unconditional, 1 plain conditional, > 1 amplified; default: the model's guidance_scale)",
        };

        public readonly Option<double?> GuidanceMinNoise = new("--guidance-min-noise")
        {
            Description = "Sequence models: guide only at steps whose noise level σ_t = √((1 − ᾱ_t)/ᾱ_t) is at least S, the plain conditional model elsewhere (0: every step; default: the model's guidance_min_noise)",
        };

        public readonly Option<double?> RegimeGuidance = new("--regime-guidance")
        {
            Description = "Sequence models: regime guidance a ≥ 0, the conditional shift of the windows' log scale amplified: every window scaled by exp(a(ℓ_c − ℓ_∅)) (0: none; default: the model's regime_guidance)",
        };

        public readonly Option<string> Stress = new("--stress")
        {
            Description = "Sequence models: a stress specification, e.g. \"gfc-2008\", \"vol=+2sd\", \"VIXCLS=45,SPY<=-20%,HYG<=-10%\" (README: Stress specifications)",
        };

        public readonly Option<string> Out = new("--out") { Description = "The scenario CSV to write (FILE.meta.json goes beside it)", Required = true };

        public readonly Option<bool> Prices = new("--prices")
        {
            Description = "Add a price path per series after the return columns, SERIES_price: P_t = P_0 · exp(the scenario's log returns summed up to step t); P_0 is the model's last train price (models trained on prices) unless --start-prices says otherwise",
        };

        public readonly Option<string> StartPrices = new("--start-prices")
        {
            Description = "With --prices: P_0 per series from FILE.json ({\"SPY\": 470.2, …}; wins over the model's last train prices), or 'unit' for every P_0 = 1 (paths relative to the start)",
        };

        public readonly Option<bool> AllowRetired = new("--allow-retired")
        {
            Description = "Draw from a registered model even when its status is retired (refused otherwise, exit 2)",
        };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the registry that resolves an id prefix and the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>The <c>generate</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Sampler.AcceptOnlyFromAmong([.. SamplerNames.SamplerChoices]);
        o.Spacing.AcceptOnlyFromAmong([.. SamplerNames.SpacingChoices]);
        var command = new Command("generate", "Generate scenarios from a trained model: FILE.csv (log returns, original units) + FILE.meta.json")
        {
            o.Model, o.Count, o.Sampler, o.Spacing, o.SamplingSteps, o.Eta, o.Seed, o.Condition, o.Guidance, o.GuidanceMinNoise, o.RegimeGuidance, o.Stress, o.Out, o.Prices, o.StartPrices, o.AllowRetired, o.Home, o.Store, o.Json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Generates and writes the files; writes a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var result = output;
        output = JsonResult.SummaryWriter(json, output);
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        int count = parse.GetValue(o.Count);
        if (count < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--count must be at least 1, got {count}"));
        var modelFolder = ModelCommand.FolderOf(store, parse.GetValue(o.Model)!, parse.GetValue(o.AllowRetired));
        var spacing = SamplerNames.SpacingFromWireName(parse.GetValue(o.Spacing)) ?? DdimSpacing.Linear;
        string path = parse.GetValue(o.Out)!;
        bool prices = parse.GetValue(o.Prices);
        string? startOption = parse.GetValue(o.StartPrices);
        if (startOption is not null && !prices) throw new InvalidInputException("OPT-E", "--start-prices applies with --prices only");
        var prepared = Generation.Load(modelFolder, parse.GetValue(o.Sampler), parse.GetValue(o.SamplingSteps), parse.GetValue(o.Eta), spacing);
        // DDPM visits every one of the T steps in order: a --spacing given with it would be ignored silently (the default is no choice)
        if (prepared.Sampler.Kind == SamplerKind.Ddpm && parse.GetResult(o.Spacing) is { Implicit: false })
        {
            throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture,
                $"--spacing applies to --sampler ddim and dpm2m; --sampler ddpm visits every one of the model's {prepared.Sampler.Steps} diffusion steps"));
        }

        // the start prices are checked before anything is drawn
        var start = prices ? prepared.StartPricesOf(startOption, modelFolder) : null;
        var run = StartRun(home, parse, o, count, prepared.Sampler, start);
        run.ModelId = prepared.ModelId;
        if (prepared.Note is { } note) output.WriteLine(note);
        run.AddInput(Path.Combine(modelFolder, DiffusionGenerator.WeightsFileName)).AddInput(Path.Combine(modelFolder, DiffusionGenerator.ManifestFileName));
        if (start?.File is not null) run.AddInput(startOption!);
        run.CheckOutput("--out", path, ScenarioCsv.MetadataPath(path));
        var set = prepared.Draw(count, parse.GetValue(o.Seed), parse.GetValue(o.Condition), parse.GetValue(o.Guidance), parse.GetValue(o.GuidanceMinNoise),
            parse.GetValue(o.RegimeGuidance), parse.GetValue(o.Stress), modelFolder);
        if (start is not null) set = PricePaths.Append(set, start);
        var standing = RunAudit.StandingOf(store, modelFolder);
        set = RunAudit.WithStanding(set, standing);
        if (standing.Conflicting is { } conflicting)
        {
            output.WriteLine($"note:      model {conflicting.Id[..16]}… is registered in {(store.IsSqlite ? home.Root : store.Location.Redacted)} with another manifest.json; these scenarios are recorded "
                + "as drawn from an unregistered model (registered: false, with this folder's manifest hash), not as the registered model's");
        }

        var meta = ScenarioCsv.Write(path, set, DateTimeOffset.UtcNow);
        var (runManifest, receipts) = RunAudit.Complete(store, run.AddOutput(path).AddOutput(ScenarioCsv.MetadataPath(path)),
            RunAudit.GenerateCompleted("generate", meta), (AuditKind.ScenariosGenerated, RunAudit.Generated(meta)));
        string pricePaths = meta.Prices is { } p ? $", price paths from P_0 of {JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Source.ToString())}" : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scenarios: {path} ({meta.Rows} rows × {meta.Columns.Count - (meta.Prices?.Columns.Count ?? 0)} series{pricePaths}, {meta.Sampler}-{meta.SamplingSteps}, seed {meta.Seed})"));
        output.WriteLine($"metadata:  {ScenarioCsv.MetadataPath(path)} (model {meta.ModelId[..16]}…, csv sha256 {meta.CsvSha256[..16]}…)");
        // conditions outside the training range: the scenarios extrapolate (recorded in FILE.meta.json as condition_warnings)
        foreach (var warning in meta.ConditionWarnings ?? []) Console.Error.WriteLine($"warning: {warning.Message}");
        if (prepared.UnitsNote is { } units) Console.Error.WriteLine(units);
        output.WriteLine($"manifest:  {runManifest}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit:     entries {receipts[0].Seq} and {receipts[^1].Seq} in {store.AuditPlace}"));
        if (json)
        {
            JsonResult.Write(result, new JsonObject
            {
                ["command"] = "generate",
                ["csv"] = JsonResult.Full(path),
                ["meta"] = JsonResult.Full(ScenarioCsv.MetadataPath(path)),
                ["csv_sha256"] = meta.CsvSha256,
                ["model_id"] = meta.ModelId,
                ["model_registered"] = meta.Registered,
                ["kind"] = meta.Kind.WireName(),
                ["run_id"] = run.RunId,
                ["run_manifest"] = JsonResult.Full(runManifest),
                ["count"] = count,
                ["rows"] = meta.Rows,
                ["seed"] = meta.Seed,
                ["sampler"] = meta.Sampler,
                ["sampling_steps"] = meta.SamplingSteps,
                // as in FILE.meta.json, and [] when every condition is inside the training range
                ["condition_warnings"] = JsonSerializer.SerializeToNode(meta.ConditionWarnings ?? [], DiffusionJson.Options),
                ["audit_seqs"] = new JsonArray(receipts[0].Seq, receipts[^1].Seq),
                ["audit_database"] = store.AuditDatabase,
            });
        }

        return ExitCode.Success;
    }

    /// <summary>
    /// A model loaded for one generation, with the sampler checked against it: what <c>generate</c> runs, and what
    /// <c>verify-run --recompute</c> runs again from a run manifest's config.
    /// </summary>
    internal sealed class Generation(SequenceGenerator? sequence, DiffusionGenerator? tabular, SamplerOptions sampler, string modelId, string? note)
    {
        /// <summary>The sampler as it will run (steps checked against the model's T).</summary>
        public SamplerOptions Sampler { get; } = sampler;

        /// <summary>The model id (SHA-256 of its weights).</summary>
        public string ModelId { get; } = modelId;

        /// <summary>A line for the user when the sampler is not the one a distilled network was made for, else null.</summary>
        public string? Note { get; } = note;

        /// <summary>Loads a tabular or sequence model folder and checks the sampler settings against it (input errors: exit 2).</summary>
        /// <remarks>Without <paramref name="samplingSteps"/>: <see cref="SamplerOptions.DefaultFor"/>'s count (50, or T when fewer).</remarks>
        public static Generation Load(string modelFolder, string? sampler, int? samplingSteps, double eta, DdimSpacing spacing)
        {
            if (Directory.Exists(modelFolder) && SequenceGenerator.ReadKind(modelFolder) == ModelKind.Sequence)
            {
                var sequence = SequenceGenerator.Load(modelFolder);
                int t = sequence.Schedule.Steps;
                var options = SamplerOptionsOf(sampler, samplingSteps, eta, t) with { Spacing = spacing };
                return new Generation(sequence, null, options, sequence.ModelId, null);
            }

            var generator = DiffusionGenerator.Load(modelFolder);
            int steps = generator.Schedule.Steps;
            var tabular = SamplerOptionsOf(sampler, samplingSteps, eta, steps) with { Spacing = spacing };
            string? note = null;
            if (!generator.IsMadeFor(tabular))
            {
                var made = generator.Options.MadeForSampler;
                string grid = string.Create(CultureInfo.InvariantCulture,
                    $"ddim-{made.Steps} ({JsonNamingPolicy.SnakeCaseLower.ConvertName(made.Spacing.ToString())} spacing, eta 0)");
                note = (generator.Options.Distillation is not null, generator.Manifest.Calibration is not null) switch
                {
                    (true, true) => $"note:      this model's network was distilled and its marginals calibrated for {grid}; other samplers run on a network tuned for that grid, without the calibration",
                    (true, false) => $"note:      this model's network was distilled for {grid}; other samplers run on a network tuned for that grid",
                    _ => $"note:      this model's marginals were calibrated for {grid}; other samplers' draws are not calibrated",
                };
            }

            return new Generation(null, generator, tabular, generator.ModelId, note);
        }

        /// <summary>
        /// The start prices of <c>--prices</c>: <paramref name="option"/> <c>unit</c> (every P_0 = 1), a start-prices JSON
        /// file, or when null the last train prices the model's manifest recorded (an input error when it has none).
        /// </summary>
        public StartPrices StartPricesOf(string? option, string modelFolder)
        {
            var series = sequence?.Columns ?? tabular!.Manifest.Columns;
            return option switch
            {
                null => StartPrices.FromModel(series, Data.LastPrices, modelFolder, Data.LastPricesWithheld == true),
                StartPrices.UnitName => StartPrices.Unit(series),
                _ => StartPrices.FromFile(option, series),
            };
        }

        /// <summary>
        /// A line for stderr when the model was trained on percent returns: its scenarios are log returns as fractions, not
        /// the percent the user gave (ff10's 1.25 is a scenario's 0.0124); null otherwise.
        /// </summary>
        public string? UnitsNote => Data.InputKind == nameof(InputKind.PercentReturns)
            ? "note: the model was trained on percent returns; the scenarios (and VaR, ES and prices drawn from them) are log returns as fractions, ln(1 + r/100): -0.0100 is a fall of about 1%"
            : null;

        // the model's data manifest, whichever the kind (a sequence model's own, even without last prices)
        private DataManifest Data => sequence is not null ? sequence.Manifest.Data : tabular!.Manifest.Data;

        /// <summary>Draws the scenarios; conditions, guidance and stress apply to sequence models only (else an input error naming <paramref name="modelFolder"/>).</summary>
        public ScenarioSet Draw(int count, ulong seed, string[]? conditions, double? guidance, double? guidanceMinNoise, double? regimeGuidance, string? stress,
            string modelFolder)
        {
            if (sequence is not null)
            {
                // the library's refusal of a negative or non-finite w, σ_g or a (SequenceOptionException), worded with this
                // command's flags and located at the flag when given, else at the model whose setting it is (the regime
                // guidance whose factor underflows or overflows, the model's own when no --regime-guidance is given)
                InvalidInputException AtOption(SequenceOptionException e)
                {
                    var worded = e.Worded(GenerateFlagNames.Instance);
                    bool given = e.Option switch
                    {
                        SequenceOption.Guidance => guidance is not null,
                        SequenceOption.GuidanceMinNoise => guidanceMinNoise is not null,
                        SequenceOption.RegimeGuidance => regimeGuidance is not null,
                        _ => false,
                    };
                    return new InvalidInputException(worded.Rule, worded.Message, e.Location
                        ?? new InputLocation(given ? GenerateFlagNames.Instance.Name(e.Option!.Value) : Path.Combine(modelFolder, DiffusionGenerator.ManifestFileName), 0, 0));
                }

                // first, as before the conditions are read: a value the library refuses whatever the request
                try
                {
                    new SequenceSampleRequest(GuidanceScale: guidance, GuidanceMinNoise: guidanceMinNoise, RegimeGuidance: regimeGuidance).CheckOptions();
                }
                catch (SequenceOptionException e)
                {
                    throw AtOption(e);
                }

                var own = ConditionsOf(conditions);
                if (own is not null)
                {
                    try
                    {
                        _ = sequence.RequestedConditions(new SequenceSampleRequest(own));
                    }
                    catch (InvalidInputException e) when (e.Location is null)
                    {
                        // a name the model does not know, or a value out of its range: at the option that gave it
                        throw new InvalidInputException(e.Rule, e.Message, new InputLocation("--condition", 0, 0));
                    }
                }

                var request = new SequenceSampleRequest(own, guidance, Sampler, stress, guidanceMinNoise, regimeGuidance);
                try
                {
                    return sequence.Generate(count, seed, request);
                }
                catch (InvalidInputException e) when (e.Rule == SequenceGenerator.GuidanceWithoutConditionsRule && e.Location is null && sequence.ConditionSpace.Names.Count > 0)
                {
                    // the library's rule on a conditional model with no condition named: located at the first option that asks for guidance
                    string option = guidance is not null ? "--guidance" : guidanceMinNoise is not null ? "--guidance-min-noise" : "--regime-guidance";
                    throw new InvalidInputException(e.Rule, $"{e.Message} (--condition NAME=VALUE or --stress SPEC names one; or drop {option})", new InputLocation(option, 0, 0));
                }
                catch (InvalidInputException e) when (e.Rule == SequenceGenerator.GuidanceWithoutConditionsRule && e.Location is null)
                {
                    // the library's rule (--guidance, --guidance-min-noise, --regime-guidance on a model without condition inputs), located at the model
                    throw new InvalidInputException(e.Rule, e.Message, new InputLocation(Path.Combine(modelFolder, DiffusionGenerator.ManifestFileName), 0, 0));
                }
                catch (SequenceOptionException e)
                {
                    // a regime guidance whose factor underflows or overflows
                    throw AtOption(e);
                }
            }

            // the first of them given, at its option
            var given = new[] { ("--condition", conditions is { Length: > 0 }), ("--guidance", guidance is not null), ("--guidance-min-noise", guidanceMinNoise is not null),
                ("--regime-guidance", regimeGuidance is not null), ("--stress", stress is not null) }.FirstOrDefault(g => g.Item2).Item1;
            if (given is not null)
                throw new InvalidInputException("OPT-E-KIND", $"{given} applies to sequence models only; {modelFolder} is a tabular model", new InputLocation(given, 0, 0));
            return tabular!.Generate(count, seed, Sampler);
        }
    }

    /// <summary>
    /// A generate run (<c>crucible generate</c>, the demo's generate steps) drawn again from the model its manifest names
    /// (the folder of its recorded <c>weights.safetensors</c>), the config <see cref="RunConfig"/> wrote and its seed,
    /// through <see cref="Generation"/>: the CSV's recorded and recomputed hashes and, when the recorded metadata file is
    /// there, the metadata's, with its <c>created</c> time and <c>library_version</c> taken from that file (what a second
    /// run, possibly by a later build, cannot reproduce; a different library version is named in the note).
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var weights = m.Inputs.FirstOrDefault(i => i.IsFile && Path.GetFileName(i.Path) == DiffusionGenerator.WeightsFileName)
            ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest names no model weights to generate with", where);
        var csv = m.Outputs.FirstOrDefault(o => o.IsFile && o.Path.EndsWith(".csv", StringComparison.Ordinal))
            ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest names no scenario CSV to compare with", where);
        var model = Path.GetDirectoryName(full(weights.Path))!;
        var c = m.Config;
        // a ddpm run records the sampler options' unused K (DDPM runs all T): it is not a choice to pass back
        string? sampler = RunRecompute.Value<string>(c, "sampler");
        var generation = Generation.Load(model, sampler, sampler == "ddpm" ? null : RunRecompute.Value<int>(c, "sampling_steps"),
            RunRecompute.Value<double>(c, "eta"), RunRecompute.Value<string>(c, "spacing") == "angle" ? DdimSpacing.UniformAngle : DdimSpacing.Linear);
        var set = generation.Draw(RunRecompute.Value<int>(c, "count"), m.Seed, RunRecompute.Strings(c, "conditions"), RunRecompute.Value<double?>(c, "guidance"),
            RunRecompute.Value<double?>(c, "guidance_min_noise"), RunRecompute.Value<double?>(c, "regime_guidance"), RunRecompute.Value<string>(c, "stress"), model);
        if (RunRecompute.Value<bool>(c, "prices"))
        {
            string? option = RunRecompute.Value<string>(c, "start_prices");
            if (RunRecompute.Value<string>(c, "start_prices_file") is { } name)
            {
                // the start-prices file is the last input of that name (after the model's weights and manifest)
                var file = m.Inputs.LastOrDefault(i => i.IsFile && Path.GetFileName(i.Path) == name)
                    ?? throw new InvalidInputException(RunRecompute.Rule, $"the manifest names no start-prices file {name}", where);
                option = full(file.Path);
            }

            set = PricePaths.Append(set, generation.StartPricesOf(option, model));
        }

        var bytes = ScenarioCsv.Format(set.Values, set.Metadata.StepsPerScenario);
        var results = new List<Recomputed> { new(csv.Path, csv.Sha256, RunRecompute.Sha256(bytes)) };
        if (m.Outputs.FirstOrDefault(o => o.IsFile && o.Path.EndsWith(".meta.json", StringComparison.Ordinal)) is { } meta && File.Exists(full(meta.Path)))
        {
            var (recorded, created) = RecordedMetadata(full(meta.Path));
            // the manifest hash is the model's (recomputed from its file); whether the home's registry held the model is
            // the record's judgement at the time, taken from the file as its time is (a later registration changes it)
            if (recorded.ModelManifestSha256 is not null)
            {
                set = set with { Metadata = set.Metadata with
                {
                    ModelManifestSha256 = Governance.FileHash.Sha256(Path.Combine(model, DiffusionGenerator.ManifestFileName)), Registered = recorded.Registered,
                } };
            }

            var again = ScenarioCsv.Describe(set, bytes, Path.GetFileName(csv.Path), created);
            var json = ScenarioCsv.ToJson(again with { LibraryVersion = recorded.LibraryVersion });
            results.Add(new(meta.Path, meta.Sha256, RunRecompute.Sha256(System.Text.Encoding.UTF8.GetBytes(json)),
                RunRecompute.VersionNote(recorded.LibraryVersion, again.LibraryVersion, "drawn")));
        }

        return results;
    }

    /// <summary>
    /// The recorded <c>FILE.meta.json</c> of a generate run and its <c>created</c> time, read back to draw against: a file
    /// that is not the metadata's JSON (malformed, a key of the wrong type or unknown, a time that is not one) is refused
    /// naming it (rule <see cref="Crucible.Evaluation.ScenarioSidecar.MetadataRule"/>, at the line and column System.Text.Json
    /// gives), not an internal error.
    /// </summary>
    internal static (ScenarioMetadata Metadata, DateTimeOffset Created) RecordedMetadata(string path)
    {
        const string Rule = Crucible.Evaluation.ScenarioSidecar.MetadataRule;
        string text = InputFile.ReadAllText(path);
        ScenarioMetadata? recorded;
        try
        {
            recorded = JsonSerializer.Deserialize<ScenarioMetadata>(text, DiffusionJson.Options);
        }
        catch (JsonException e)
        {
            throw JsonNonFinite.Refusal(text, e, path) ?? new InvalidInputException(Rule, $"the recorded scenario metadata is not its JSON: {e.Message}",
                new InputLocation(path, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        if (recorded is null) throw new InvalidInputException(RunRecompute.Rule, "the recorded metadata file is empty", new InputLocation(path, 0, 0));
        if (!DateTimeOffset.TryParse(recorded.Created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created))
        {
            throw new InvalidInputException(Rule, $"the recorded scenario metadata's created is not a time (RFC 3339, as generate writes it): "
                + (recorded.Created is null ? "null" : $"'{recorded.Created}'"), new InputLocation(path, 0, 0));
        }

        return (recorded, created);
    }

    // the run manifest of one generate command: what was asked, as the model will be run
    private static RunManifestBuilder StartRun(CrucibleHome home, ParseResult parse, Options o, int count, SamplerOptions sampler, StartPrices? start)
    {
        var config = RunConfig("generate", count, sampler, parse.GetValue(o.Spacing), parse.GetValue(o.Condition),
            parse.GetValue(o.Guidance), parse.GetValue(o.GuidanceMinNoise), parse.GetValue(o.RegimeGuidance), parse.GetValue(o.Stress));
        if (start is not null)
        {
            // present only with --prices, so the config of a returns-only run is what it always was
            // P_0 from: the model (neither key), unit, or the file of that name among the run's inputs
            config["prices"] = true;
            if (start.Source == PriceStartSource.Unit) config["start_prices"] = StartPrices.UnitName;
            if (start.File is not null) config["start_prices_file"] = start.File;
        }

        return RunManifests.Start(home, RunKind.Generate, config, parse.GetValue(o.Seed));
    }

    /// <summary>
    /// The run manifest's config of a generation (<c>generate</c>, and the <c>demo</c>'s generate steps): the request as
    /// the model is run.
    /// </summary>
    internal static JsonObject RunConfig(string command, int count, SamplerOptions sampler, string? spacing, string[]? conditions, double? guidance,
        double? guidanceMinNoise, double? regimeGuidance, string? stress) => new()
    {
        ["command"] = command, ["count"] = count, ["sampler"] = sampler.Kind.WireName(),
        ["sampling_steps"] = sampler.Steps, ["eta"] = sampler.Eta, ["spacing"] = spacing,
        ["conditions"] = conditions is { Length: > 0 } c ? new JsonArray([.. c.Select(x => (JsonNode?)x)]) : null,
        ["guidance"] = guidance,
        ["guidance_min_noise"] = guidanceMinNoise,
        ["regime_guidance"] = regimeGuidance,
        ["stress"] = stress,
    };

    /// <summary>
    /// The <c>--condition NAME=VALUE</c> arguments as a dictionary (values culture-invariant); a malformed, repeated or
    /// non-finite one is an input error naming the argument, and so is a VALUE with a leading '+': a condition is a level
    /// (a negative one, e.g. a spread of -0.5, is one), and a '+' asks for the shift <c>--stress "NAME=+X"</c> gives.
    /// </summary>
    internal static Dictionary<string, double>? ConditionsOf(string[]? arguments)
    {
        if (arguments is null || arguments.Length == 0) return null;
        var conditions = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < arguments.Length; i++)
        {
            string a = arguments[i];
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            string name = eq > 0 ? a[..eq].Trim() : "";
            if (name.Length == 0 || !StressSpec.TryParseNumber(a[(eq + 1)..], out double value))
                throw new InvalidInputException("OPT-E-CONDITION", $"--condition '{a}' is not NAME=VALUE with a finite number VALUE (e.g. VIXCLS=45)", new InputLocation("--condition", 0, 0));
            // a '+' reads as a shift (as in --stress), but a condition is a level: refused rather than taken as the level
            string text = a[(eq + 1)..].Trim();
            if (text.StartsWith('+'))
            {
                throw new InvalidInputException("OPT-E-CONDITION", $"--condition '{a}' gives a level, not a shift: {name}={text[1..]} is the level {text[1..]}; "
                    + $"for a shift from the reference state use --stress \"{name}={text}\"", new InputLocation("--condition", 0, 0));
            }

            if (!conditions.TryAdd(name, value))
                throw new InvalidInputException("OPT-E-CONDITION", $"--condition names {name} twice", new InputLocation("--condition", 0, 0));
        }

        return conditions;
    }

    /// <summary>
    /// Checks the sampler options against the model's T; bad values are input errors (exit 2). Without
    /// <paramref name="samplingSteps"/>: <see cref="SamplerOptions.DefaultFor"/>'s count; with <c>ddpm</c>, which runs
    /// every one of the T steps, a count other than T is refused rather than ignored.
    /// </summary>
    internal static SamplerOptions SamplerOptionsOf(string? sampler, int? samplingSteps, double eta, int trainSteps)
    {
        var kind = sampler is null ? SamplerKind.Ddim
            : SamplerNames.SamplerFromWireName(sampler) ?? throw new InvalidInputException("OPT-E", $"--sampler must be {string.Join(", ", SamplerNames.SamplerChoices)}, got '{sampler}'");
        // η is DDIM's stochasticity: the other samplers would ignore it silently (the samplers pass η to DDIM only)
        if (kind != SamplerKind.Ddim && eta != 0)
            throw new InvalidInputException("OPT-E", $"--eta applies to --sampler ddim only (DDIM's η); --sampler {sampler} does not use it");
        if (kind == SamplerKind.Ddpm)
        {
            if (SamplerOptions.DdpmStepsProblem(samplingSteps, trainSteps, "--sampler") is { } problem)
                throw new InvalidInputException("OPT-E", "--sampling-steps " + problem);
            return SamplerOptions.ForDdpm(trainSteps); // Steps = T: what the run manifest records, the steps DDPM runs
        }

        int steps = samplingSteps ?? SamplerOptions.DefaultFor(trainSteps).Steps;
        if (steps < 1 || steps > trainSteps)
            throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--sampling-steps must be in 1..{trainSteps} (the model's diffusion steps), got {steps}"));
        if (!(eta >= 0 && eta <= 1)) throw new InvalidInputException("OPT-E", $"--eta must be in [0, 1], got {eta.ToString(CultureInfo.InvariantCulture)}");
        return new SamplerOptions(kind, steps, eta);
    }
}
