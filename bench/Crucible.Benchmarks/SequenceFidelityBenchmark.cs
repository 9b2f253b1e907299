using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Evaluation;
using Crucible.Tensors;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>sequence-fidelity [--data FILE] [--state FILE] [--train-end DATE] [--steps N] [--config FILE] [--seed S]
/// [--condition-noise H] [--samples N] [--stress-samples N] [--guidance G,G,…] [--main-guidance G] [--vix-guidance G,G,…]
/// [--no-vix] [--calibrate [--calibration-rule regime|smallest-within|closest]] [--guidance-min-noise S] [--sampler ddim|dpm2m] [--exclude FROM..TO,…] [--crisis-date DATE] [--crisis-window FROM..TO] [--threads N] [--model DIR [--reuse]]</c>:
/// the sequence generator's "done when" figures of issue #7 on the multi-asset panel (<c>bench/sequence/fidelity.sh</c>).
/// <c>--exclude</c> removes the return rows of each date range from the training data (the rows either side are joined,
/// so W − 1 training windows straddle the seam) for leave-crisis-out validation, with <c>--crisis-date</c> and
/// <c>--crisis-window</c> naming the state and the episode whose realised ES it is compared with (default
/// 2020-03-16 and 2020-02-20..2020-04-30). The criteria are judged at the model's default guidance scale
/// (<see cref="SequenceGeneratorOptions.GuidanceScale"/>) and regime guidance, or at <c>--main-guidance</c>;
/// <c>--guidance</c> lists the scales to report beside it (each with the model's regime guidance). <c>--calibrate</c>
/// first sets them by <see cref="SequenceGenerator.CalibrateGuidance"/> on gfc-2008 (its default rule unless
/// <c>--calibration-rule</c> names one; at <c>--guidance-min-noise</c> when given).
/// Log returns of the 26 series, windows of W = 20 days (stride 1), conditions from <see cref="EconomicState"/> (lagged
/// one day); train on windows that start on or before 2019-12-31 − (W − 1) rows (every train window lies in the train
/// period). Reports:
/// <list type="bullet">
/// <item>unconditional windows vs the training windows, each window a path: ks_mean and corr_distance over all days,
/// the mean |λ_L real − λ_L synthetic| over series pairs (lower-tail dependence at u = 0.05), and the mean over series
/// and lags of |ACF(|r|) real − synthetic| computed within windows (lags 1..W − 1: a 20-day window has no lag 20);</item>
/// <item>the 20-day equal-weight (daily rebalanced) portfolio ES at 97.5% of windows conditioned on the full state of
/// 2020-03-16 (which the lag makes the close of 2020-03-13), for each guidance scale, against the realised ES of the
/// 20-day windows inside 2020-02-20 .. 2020-04-30 and against the unconditional ES;</item>
/// <item>the same ES conditioned on VIXCLS alone at 15, 25, 35, 45, 60, and whether it rises monotonically, at the
/// main guidance scale (the criterion) and at w = 1.</item>
/// </list>
/// Prints one JSON object; exit 3 when a criterion fails.
/// </summary>
public sealed class SequenceFidelityBenchmark : IBenchmarkCommand
{
    private static readonly double[] VixLevels = [15, 25, 35, 45, 60];

    /// <inheritdoc />
    public string Name => "sequence-fidelity";

    /// <inheritdoc />
    public string Description => "issue #7 figures: train the conditional sequence generator on the multi-asset panel and evaluate it";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        string data = Args.String(args, "--data") ?? "/work/shared/data/multi_asset_daily_prices.csv";
        string statePath = Args.String(args, "--state") ?? "/work/shared/data/us_conditioning_daily.csv";
        var trainEnd = DateOnly.ParseExact(Args.String(args, "--train-end") ?? "2019-12-31", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        ulong seed = ulong.Parse(Args.String(args, "--seed") ?? "1", CultureInfo.InvariantCulture);
        int samples = Args.Int(args, "--samples", 4000);
        int stressSamples = Args.Int(args, "--stress-samples", 4000);
        int threads = Args.Int(args, "--threads", Environment.ProcessorCount);
        var guidance = (Args.String(args, "--guidance") ?? "1,2,3").Split(',').Select(g => double.Parse(g, CultureInfo.InvariantCulture)).ToArray();
        var options = Args.String(args, "--config") is { } config
            ? JsonSerializer.Deserialize<SequenceGeneratorOptions>(File.ReadAllText(config), DiffusionJson.Options)!
            : new SequenceGeneratorOptions();
        options = options with { Seed = seed };
        if (Args.String(args, "--steps") is { } steps) options = options with { Training = options.Training with { Steps = int.Parse(steps, CultureInfo.InvariantCulture) } };
        if (Args.String(args, "--condition-noise") is { } noise) options = options with { ConditionNoise = double.Parse(noise, CultureInfo.InvariantCulture) };
        double? fixedGuidance = Args.String(args, "--main-guidance") is { } mg ? double.Parse(mg, CultureInfo.InvariantCulture) : null;
        double? minNoise = Args.String(args, "--guidance-min-noise") is { } gm ? double.Parse(gm, CultureInfo.InvariantCulture) : null;
        var crisisDate = Date(Args.String(args, "--crisis-date") ?? "2020-03-16");
        var (episodeFrom, episodeTo) = Range(Args.String(args, "--crisis-window") ?? "2020-02-20..2020-04-30");
        using var limit = EngineThreads.Limit(threads);
        var samplerKind = (Args.String(args, "--sampler") ?? "ddim") switch
        {
            "ddim" => SamplerKind.Ddim,
            "dpm2m" => SamplerKind.DpmSolver2M,
            var other => throw new ArgumentException($"unknown --sampler {other} (ddim or dpm2m)"),
        };
        var sampler = new SamplerOptions(samplerKind, 50, MaxDegreeOfParallelism: threads);

        var returns = CsvSeriesReader.Load(data, new CsvReadOptions { Input = InputKind.Prices }).ToLogReturns(InputKind.Prices);
        var state = CsvSeriesReader.Load(statePath, new CsvReadOptions { Input = InputKind.LogReturns });
        var features = EconomicState.Build(state, returns);
        var train = returns.Slice(0, returns.IndexAtOrBefore(trainEnd) + 1);
        if (Args.String(args, "--exclude") is { } exclude)
        {
            foreach (string range in exclude.Split(','))
            {
                var (excludeFrom, excludeTo) = Range(range);
                train = WithoutRows(train, excludeFrom, excludeTo);
            }
        }

        int w = options.Window;

        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        var clock = Stopwatch.StartNew();
        SequenceGenerator generator;
        string? modelDir = Args.String(args, "--model");
        bool reused = modelDir is not null && Directory.Exists(modelDir) && args.Contains("--reuse");
        if (reused)
        {
            generator = SequenceGenerator.Load(modelDir!);
        }
        else
        {
            generator = new SequenceGenerator(options).Fit(train, features, provenance: DataProvenance.FromFile(data, InputKind.Prices),
                stateProvenance: DataProvenance.FromFile(statePath, InputKind.LogReturns),
                progress: new Progress<TrainingProgress>(p => Console.Error.WriteLine(
                    string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} {p.StepsPerSecond:F2} steps/s"))));
        }

        double trainSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained in {trainSeconds:F0} s"));

        // --calibrate: the model's default guidance from the rule on its own training data (gfc-2008), as
        // `crucible train --calibrate-guidance gfc-2008` sets it; the criteria are then judged at that w
        GuidanceCalibration? calibration = null;
        if (args.Contains("--calibrate"))
        {
            var rule = Args.String(args, "--calibration-rule") is { } name
                ? SequenceTraining.RuleOf(name) ?? throw new ArgumentException($"--calibration-rule: one of {SequenceTraining.RuleNames}, got '{name}'")
                : new GuidanceCalibrationOptions().Rule;
            calibration = generator.CalibrateGuidance(train, features, new GuidanceCalibrationOptions { Rule = rule, GuidanceMinNoise = minNoise, Sampler = samplerKind });
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"calibrated guidance: w = {calibration.Chosen}, regime a = {calibration.RegimeGuidance:F4} (k {calibration.RegimeFactor:F4}, ES {calibration.RegimeExpectedShortfall:F4}; {string.Join(", ", calibration.Points.Select(p => $"{p.Guidance}: {p.ExpectedShortfall:F4}"))}; realised {calibration.RealisedEs:F4})"));
        }

        // a model trained here is saved with its calibration (a reused one is left as it is)
        if (modelDir is not null && !reused) generator.Save(modelDir);

        // 1. unconditional windows vs the training windows
        clock.Restart();
        var unconditional = generator.Sample(samples, seed: 1000 + seed, new SequenceSampleRequest(Sampler: sampler));
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        var realWindows = Windows(train, w);
        var report = Evaluator.Evaluate(new EvaluationInput(realWindows, ToWindowSet(unconditional, w)),
            new EvaluationOptions { Lags = w - 1, Alpha = 0.975, MembershipInference = false, Utility = false });
        double acfError = 0;
        int acfCount = 0;
        foreach (var s in report.PerSeries)
        {
            for (int l = 0; l < w - 1; l++)
            {
                acfError += Math.Abs(s.AcfAbs.Real[l] - s.AcfAbs.Synthetic[l]);
                acfCount++;
            }
        }

        acfError /= acfCount;
        double tailError = 0;
        int pairs = 0;
        int d = train.ColumnCount;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                if (i == j) continue;
                double a = report.LowerTailDependence.Real[i][j], b = report.LowerTailDependence.Synthetic[i][j];
                if (double.IsNaN(a) || double.IsNaN(b)) continue;
                tailError += Math.Abs(a - b);
                pairs++;
            }
        }

        tailError /= pairs;

        // 2. the 2020-03-16 state and the realised ES of 2020-02-20 .. 2020-04-30
        double esUnconditional = WindowEs(unconditional, w);
        double esTrain = WindowEs(train, w, train.RowCount - w + 1);
        int crisisRow = Array.BinarySearch(features.Dates, crisisDate);
        if (crisisRow < 0) throw new InvalidOperationException($"no feature row dated {crisisDate:yyyy-MM-dd}");
        var crisis = features.Columns.Select((n, j) => (n, j)).ToDictionary(p => p.n, p => features[crisisRow, p.j], StringComparer.Ordinal);
        int from = returns.IndexAtOrBefore(episodeFrom.AddDays(-1)) + 1, to = returns.IndexAtOrBefore(episodeTo);
        var realised = returns.Slice(from, to + 1);
        double esRealised = WindowEs(realised, w, realised.RowCount - w + 1);

        var byGuidance = new JsonArray();
        // the criteria are judged at the model's default guidance (SequenceGeneratorOptions.GuidanceScale, chosen by a
        // rule on training-period data) unless --main-guidance names another; never at the scale that fits the episode
        double mainGuidance = fixedGuidance ?? generator.Manifest.Config.GuidanceScale, esMain = double.NaN;
        if (!guidance.Contains(mainGuidance)) guidance = [.. guidance, mainGuidance];
        foreach (double g in guidance)
        {
            clock.Restart();
            var stressed = generator.Sample(stressSamples, seed: 2000 + seed, new SequenceSampleRequest(crisis, g, sampler, GuidanceMinNoise: minNoise));
            double es = WindowEs(stressed, w);
            byGuidance.Add(new JsonObject
            {
                ["guidance"] = g,
                ["es975"] = Math.Round(es, 5),
                ["ratio_to_realised"] = Math.Round(es / esRealised, 3),
                ["ratio_to_unconditional"] = Math.Round(es / esUnconditional, 3),
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            });
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"w={g}: ES {es:F4} (realised {esRealised:F4}, unconditional {esUnconditional:F4})"));
            if (g == mainGuidance) esMain = es;
        }

        // 3. ES against the VIX condition alone, at the guidance scale closest to the realised ES (the criterion) and at
        // w = 1 (the plain conditional model), unless --vix-guidance lists others
        var vix = new JsonArray();
        bool monotone = false;
        var sweepGuidance = args.Contains("--no-vix") ? []
            : Args.String(args, "--vix-guidance") is { } list
            ? list.Split(',').Select(g => double.Parse(g, CultureInfo.InvariantCulture)).ToArray()
            : new[] { mainGuidance, 1.0 }.Distinct().ToArray();
        foreach (double g in sweepGuidance)
        {
            var vixEs = new List<double>();
            var levels = new JsonArray();
            foreach (double level in VixLevels)
            {
                var s = generator.Sample(stressSamples, seed: 3000 + seed, new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = level }, g, sampler, GuidanceMinNoise: minNoise));
                double es = WindowEs(s, w);
                vixEs.Add(es);
                levels.Add(new JsonObject { ["vix"] = level, ["es975"] = Math.Round(es, 5) });
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"w={g} VIX {level}: ES {es:F4}"));
            }

            bool rising = vixEs.Zip(vixEs.Skip(1)).All(p => p.Second > p.First);
            if (g == mainGuidance) monotone = rising;
            vix.Add(new JsonObject { ["guidance"] = g, ["levels"] = levels, ["monotone"] = rising });
        }

        bool ksOk = report.KsMean <= 0.05, acfOk = acfError <= 0.05, corrOk = report.CorrDistance <= 0.10, tailOk = tailError <= 0.05;
        bool esOk = Math.Abs(esMain / esRealised - 1) <= 0.25, esRatioOk = esMain >= 2 * esUnconditional;
        var result = new JsonObject
        {
            ["command"] = Name,
            ["data"] = Path.GetFileName(data),
            ["state"] = Path.GetFileName(statePath),
            ["train_windows"] = generator.Manifest.Windows.Count,
            ["excluded"] = Args.String(args, "--exclude"),
            ["condition_noise"] = generator.Manifest.Config.ConditionNoise,
            ["guidance_min_noise"] = minNoise ?? generator.Manifest.Config.GuidanceMinNoise,
            ["regime_guidance"] = generator.Manifest.Config.RegimeGuidance,
            ["crisis_date"] = crisisDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["crisis_window"] = $"{episodeFrom:yyyy-MM-dd}..{episodeTo:yyyy-MM-dd}",
            ["conditioned_windows"] = generator.Manifest.Windows.Conditioned,
            ["train_end"] = generator.Manifest.Data.TrainEnd,
            ["features"] = new JsonArray([.. generator.ConditionSpace.Names.Select(n => (JsonNode)n)]),
            ["steps"] = generator.Manifest.Training.Steps,
            ["parameters"] = generator.Manifest.Weights.Parameters,
            ["final_loss"] = Math.Round(generator.Manifest.Training.FinalLoss, 5),
            ["threads"] = threads,
            ["sampler"] = $"{samplerKind}-{sampler.Steps}",
            ["loadavg_at_start"] = load,
            ["train_seconds"] = Math.Round(trainSeconds, 1),
            ["sample_seconds_unconditional"] = Math.Round(sampleSeconds, 1),
            ["samples"] = samples,
            ["stress_samples"] = stressSamples,
            ["unconditional"] = new JsonObject
            {
                ["ks_mean"] = Math.Round(report.KsMean, 4),
                ["acf_abs_error_mean"] = Math.Round(acfError, 4),
                ["acf_lags"] = w - 1,
                ["corr_distance"] = Math.Round(report.CorrDistance, 4),
                ["lower_tail_dependence_error_mean"] = Math.Round(tailError, 4),
                ["es975_20d"] = Math.Round(esUnconditional, 5),
                ["es975_20d_train_windows"] = Math.Round(esTrain, 5),
            },
            ["crisis_state"] = new JsonObject([.. crisis.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 4)))]),
            ["realised_es975_20d"] = Math.Round(esRealised, 5),
            ["realised_windows"] = realised.RowCount - w + 1,
            ["conditioned"] = byGuidance,
            ["main_guidance"] = mainGuidance,
            ["main_guidance_rule"] = fixedGuidance is not null ? "given (--main-guidance)"
                : calibration is not null ? "calibrated on gfc-2008 (--calibrate)" : "the model's default guidance_scale",
            ["guidance_calibration"] = calibration is null ? null : JsonSerializer.SerializeToNode(calibration, DiffusionJson.Options),
            ["vix_sweep"] = vix,
            ["pass"] = new JsonObject
            {
                ["ks_mean_le_0.05"] = ksOk,
                ["acf_abs_error_le_0.05"] = acfOk,
                ["corr_distance_le_0.10"] = corrOk,
                ["tail_dependence_error_le_0.05"] = tailOk,
                ["es_within_25pct_of_realised"] = esOk,
                ["es_ge_2x_unconditional"] = esRatioOk,
                ["es_monotone_in_vix"] = monotone,
            },
        };
        Console.WriteLine(result.ToJsonString());
        return ksOk && acfOk && corrOk && tailOk && esOk && esRatioOk && monotone ? 0 : 3;
    }

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static (DateOnly From, DateOnly To) Range(string text)
    {
        var parts = text.Split("..");
        if (parts.Length != 2) throw new ArgumentException($"expected FROM..TO, got '{text}'");
        return (Date(parts[0]), Date(parts[1]));
    }

    /// <summary>The frame without its rows dated <paramref name="from"/>..<paramref name="to"/> (inclusive).</summary>
    private static TimeSeriesFrame WithoutRows(TimeSeriesFrame frame, DateOnly from, DateOnly to)
    {
        var keep = Enumerable.Range(0, frame.RowCount).Where(r => frame.Dates[r] < from || frame.Dates[r] > to).ToArray();
        var values = new double[keep.Length * frame.ColumnCount];
        for (int i = 0; i < keep.Length; i++) frame.Row(keep[i]).CopyTo(values.AsSpan(i * frame.ColumnCount, frame.ColumnCount));
        return new TimeSeriesFrame([.. keep.Select(r => frame.Dates[r])], frame.Columns, values);
    }

    /// <summary>Every window of <paramref name="w"/> rows (stride 1), one path each.</summary>
    private static SeriesSet Windows(TimeSeriesFrame frame, int w)
    {
        int count = frame.RowCount - w + 1, d = frame.ColumnCount;
        var columns = new double[d][];
        var ids = new int[count * w];
        for (int i = 0; i < d; i++) columns[i] = new double[count * w];
        for (int b = 0; b < count; b++)
        {
            for (int t = 0; t < w; t++)
            {
                ids[(b * w) + t] = b;
                for (int i = 0; i < d; i++) columns[i][(b * w) + t] = frame[b + t, i];
            }
        }

        return new SeriesSet([.. frame.Columns], columns, ids);
    }

    /// <summary>Generated windows (rows b·W + t) as paths.</summary>
    private static SeriesSet ToWindowSet(TimeSeriesFrame frame, int w)
    {
        var columns = Enumerable.Range(0, frame.ColumnCount).Select(frame.Column).ToArray();
        var ids = Enumerable.Range(0, frame.RowCount).Select(r => r / w).ToArray();
        return new SeriesSet([.. frame.Columns], columns, ids);
    }

    /// <summary>ES at 97.5% of the W-day equal-weight portfolio log return over generated windows (rows b·W + t).</summary>
    private static double WindowEs(TimeSeriesFrame frame, int w) => WindowEs(frame, w, frame.RowCount / w, stride: w);

    /// <summary>ES at 97.5% of the W-day equal-weight portfolio log return of <paramref name="count"/> windows starting every <paramref name="stride"/> rows.</summary>
    private static double WindowEs(TimeSeriesFrame frame, int w, int count, int stride = 1) =>
        EconomicState.EqualWeightWindowExpectedShortfall(frame, w, count, stride, 0.975);
}
