using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Tabular;
using Crucible.Evaluation;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>tabular-fidelity [--data FILE] [--train-end DATE] [--steps N] [--config FILE] [--seed S] [--samples N]
/// [--ddpm-samples N] [--threads N] [--sampler ddim|dpm2m|ddpm] [--spacing linear|angle] [--model DIR [--reuse]]
/// [--iid-privacy] [--diagnose [--diagnose-only]] [--smoothing-target H,H,...]</c>: the tabular generator's "done when" figures (issue #6);
/// <c>bench/tabular/fidelity.sh</c> runs the published protocol.
/// Daily log returns of the 26-series multi-asset panel; train on rows up to 2019-12-31, holdout from 2020;
/// N = 20,000 DDIM-50 samples against the train rows: ks_mean, corr_distance, per-series excess kurtosis, VaR and ES at
/// 99%; privacy: share of synthetic rows closer to train than to holdout with an equal-size random subset of the train
/// rows and the first n synthetic rows (n = holdout rows), bound 0.5 + 1.645·√(0.25/n); and DDPM-1000 against DDIM-50 on
/// the same count (ks_mean and wall time). Prints one JSON object; exit 3 when a criterion fails. With
/// <c>--smoothing-target</c> it trains nothing: the figures of the smoothed bootstrap of the train rows at each bandwidth
/// (the training target of <c>{"smoothing": h}</c>), h = 0 the plain bootstrap.
/// </summary>
public sealed class TabularFidelityBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "tabular-fidelity";

    /// <inheritdoc />
    public string Description => "issue #6 figures: train the tabular generator on the multi-asset panel and evaluate it";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        string data = Args.String(args, "--data") ?? "/work/shared/data/multi_asset_daily_prices.csv";
        var trainEnd = DateOnly.ParseExact(Args.String(args, "--train-end") ?? "2019-12-31", "yyyy-MM-dd", CultureInfo.InvariantCulture);
        ulong seed = ulong.Parse(Args.String(args, "--seed") ?? "1", CultureInfo.InvariantCulture);
        int samples = int.Parse(Args.String(args, "--samples") ?? "20000", CultureInfo.InvariantCulture);
        int ddpmSamples = int.Parse(Args.String(args, "--ddpm-samples") ?? "20000", CultureInfo.InvariantCulture);
        int threads = int.Parse(Args.String(args, "--threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var options = Args.String(args, "--config") is { } config
            ? JsonSerializer.Deserialize<DiffusionGeneratorOptions>(File.ReadAllText(config), DiffusionJson.Options)!
            : new DiffusionGeneratorOptions();
        options = options with { Seed = seed };
        if (Args.String(args, "--steps") is { } steps) options = options with { Training = options.Training with { Steps = int.Parse(steps, CultureInfo.InvariantCulture) } };
        using var limit = EngineThreads.Limit(threads);

        // data: prices → log returns; train ≤ train-end, holdout after it (no embargo: rows are i.i.d. to the model)
        var returns = CsvSeriesReader.Load(data, new CsvReadOptions { Input = InputKind.Prices }).ToLogReturns(InputKind.Prices);
        int last = returns.IndexAtOrBefore(trainEnd);
        var train = returns.Slice(0, last + 1);
        var holdout = returns.Slice(last + 1, returns.RowCount);

        if (Args.String(args, "--smoothing-target") is { } bandwidths)
        {
            Console.WriteLine(SmoothingTarget(train, options, samples, seed, bandwidths).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }

        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        var clock = Stopwatch.StartNew();
        DiffusionGenerator generator;
        bool reused = Args.String(args, "--model") is { } model && Directory.Exists(model) && args.Contains("--reuse");
        if (reused)
        {
            generator = DiffusionGenerator.Load(Args.String(args, "--model")!);
        }
        else
        {
            generator = new DiffusionGenerator(options).Fit(train, DataProvenance.FromFile(data, InputKind.Prices),
                new Progress<Diffusion.Training.TrainingProgress>(p => Console.Error.WriteLine(
                    string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} {p.StepsPerSecond:F1} steps/s"))));
            if (Args.String(args, "--model") is { } folder) generator.Save(folder);
        }

        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (args.Contains("--diagnose"))
        {
            foreach (var so in new[]
            {
                new SamplerOptions(SamplerKind.Ddim, 50), new SamplerOptions(SamplerKind.Ddim, 50, Spacing: DdimSpacing.UniformAngle),
                new SamplerOptions(SamplerKind.DpmSolver2M, 50), new SamplerOptions(SamplerKind.DpmSolver2M, 50, Spacing: DdimSpacing.UniformAngle),
                new SamplerOptions(SamplerKind.Ddpm), new SamplerOptions(SamplerKind.Ddim, 1000),
            })
            {
                var z = generator.Transform.Forward(generator.Sample(2000, 5, so));
                var stds = Enumerable.Range(0, z.ColumnCount).Select(c => Evaluation.Statistics.Descriptive.StandardDeviation(z.Column(c))).ToArray();
                var maxAbs = Enumerable.Range(0, z.ColumnCount).Select(c => z.Column(c).Max(Math.Abs)).ToArray();
                var zr = generator.Transform.Forward(train);
                var q = Enumerable.Range(0, z.ColumnCount).Select(c => Evaluation.Statistics.Descriptive.Percentile(z.Column(c), 1)).ToArray();
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{so.Kind}-{so.Steps} eta {so.Eta} {so.Spacing}: z std mean {stds.Average():F3} min {stds.Min():F3} max {stds.Max():F3}; max|z| {maxAbs.Max():F2}; mean 1% quantile {q.Average():F3} (N(0,1): -2.326)"));
            }
        }

        clock.Restart();
        var main = new SamplerOptions(
            Args.String(args, "--sampler") switch { "dpm2m" => SamplerKind.DpmSolver2M, "ddpm" => SamplerKind.Ddpm, _ => SamplerKind.Ddim }, 50,
            Spacing: Args.String(args, "--spacing") == "angle" ? DdimSpacing.UniformAngle : DdimSpacing.Linear);
        var ddim = generator.Sample(samples, seed: 1000 + seed, main);
        if (args.Contains("--diagnose-only")) return 0;
        double ddimSeconds = clock.Elapsed.TotalSeconds;
        var fidelity = Evaluator.Evaluate(new EvaluationInput(ToSet(train), ToSet(ddim)), new EvaluationOptions { Alpha = 0.99 });

        // privacy: equal-size train subset and holdout, the first n synthetic rows
        int n = holdout.RowCount;
        var pick = Enumerable.Range(0, train.RowCount).ToArray();
        new Philox(seed, stream: 7).Shuffle(pick.AsSpan());
        var trainSubset = Rows(train, [.. pick.Take(n).Order()]);
        var privacy = Evaluator.Evaluate(new EvaluationInput(ToSet(holdout), ToSet(ddim.Slice(0, n)), ToSet(trainSubset))).Privacy!;
        var privacyAll = Evaluator.Evaluate(new EvaluationInput(ToSet(holdout), ToSet(ddim), ToSet(trainSubset))).Privacy!;
        double bound = 0.5 + (1.645 * Math.Sqrt(0.25 / n));

        // the same protocol with real train-period rows that are not in the reference subset in place of synthetic rows:
        // what a generator that draws fresh rows from the train distribution, copying none, would score
        var freshRows = Rows(train, [.. pick.Skip(n).Take(n).Order()]);
        double baseline = Evaluator.Evaluate(new EvaluationInput(ToSet(holdout), ToSet(freshRows), ToSet(trainSubset))).Privacy!.ShareCloserToTrain;

        // optional: a leakage test without the distribution shift: a model fitted on a random part of the train period,
        // the rest (n' rows) held out, n' synthetic rows against n' fitted rows and the n' held-out rows
        JsonObject? iid = null;
        if (args.Contains("--iid-privacy"))
        {
            int m = train.RowCount / 3;
            var order = Enumerable.Range(0, train.RowCount).ToArray();
            new Philox(seed, stream: 8).Shuffle(order.AsSpan());
            var heldOut = Rows(train, [.. order.Take(m).Order()]);
            var fitted = Rows(train, [.. order.Skip(m).Order()]);
            var iidGenerator = new DiffusionGenerator(generator.Options).Fit(fitted);
            var iidSynthetic = iidGenerator.Sample(m, seed: 3000 + seed, main);
            var fittedSubset = Rows(train, [.. order.Skip(m).Take(m).Order()]);
            double share = Evaluator.Evaluate(new EvaluationInput(ToSet(heldOut), ToSet(iidSynthetic), ToSet(fittedSubset))).Privacy!.ShareCloserToTrain;
            iid = new JsonObject
            {
                ["n"] = m,
                ["share_closer_to_train"] = share,
                ["bound"] = 0.5 + (1.645 * Math.Sqrt(0.25 / m)),
                ["pass"] = share <= 0.5 + (1.645 * Math.Sqrt(0.25 / m)),
            };
        }

        // DDPM-1000 vs DDIM-50 on the same count
        JsonObject? speed = null;
        if (ddpmSamples > 0)
        {
            clock.Restart();
            var ddimSame = generator.Sample(ddpmSamples, seed: 2000 + seed, main.Kind == SamplerKind.Ddpm ? new SamplerOptions(SamplerKind.Ddim, 50) : main);
            double ddimSameSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var ddpm = generator.Sample(ddpmSamples, seed: 2000 + seed, new SamplerOptions(SamplerKind.Ddpm));
            double ddpmSeconds = clock.Elapsed.TotalSeconds;
            double ksDdim = Evaluator.Evaluate(new EvaluationInput(ToSet(train), ToSet(ddimSame))).KsMean;
            double ksDdpm = Evaluator.Evaluate(new EvaluationInput(ToSet(train), ToSet(ddpm))).KsMean;
            speed = new JsonObject
            {
                ["samples"] = ddpmSamples,
                ["fast_sampler"] = main.Kind == SamplerKind.Ddpm ? "ddim-50" : main.Kind.WireName() + "-50",
                ["ddim50_seconds"] = Math.Round(ddimSameSeconds, 2),
                ["ddpm1000_seconds"] = Math.Round(ddpmSeconds, 2),
                ["speedup"] = Math.Round(ddpmSeconds / ddimSameSeconds, 2),
                ["ks_mean_ddim50"] = ksDdim,
                ["ks_mean_ddpm1000"] = ksDdpm,
                ["pass_ks_within_0.01"] = Math.Abs(ksDdim - ksDdpm) <= 0.01,
                ["pass_speedup_15x"] = ddpmSeconds / ddimSameSeconds >= 15,
            };
        }

        // how fragile the kurtosis criterion is: resample `samples` train rows with replacement (a perfect copy of the
        // train distribution) 100 times and count the draws in which some series misses "within 25%"
        var realKurtosis = Enumerable.Range(0, train.ColumnCount).Select(c => Evaluation.Statistics.Descriptive.ExcessKurtosis(train.Column(c))).ToArray();
        var bootstrapRng = new Philox(seed, stream: 9);
        int bootstrapFailures = 0;
        for (int b = 0; b < 100; b++)
        {
            var rows = new int[samples];
            for (int i = 0; i < samples; i++) rows[i] = bootstrapRng.NextInt(train.RowCount);
            var draw = Rows(train, rows);
            if (Enumerable.Range(0, train.ColumnCount).Any(c => Math.Abs((Evaluation.Statistics.Descriptive.ExcessKurtosis(draw.Column(c)) / realKurtosis[c]) - 1) > 0.25))
                bootstrapFailures++;
        }

        var perSeries = new JsonObject();
        bool kurtosisOk = true, riskOk = true;
        foreach (var s in fidelity.PerSeries)
        {
            double k = Ratio(s.ExcessKurtosis), v = Ratio(s.Var), e = Ratio(s.Es);
            kurtosisOk &= Math.Abs(k - 1) <= 0.25;
            riskOk &= Math.Abs(v - 1) <= 0.10 && Math.Abs(e - 1) <= 0.10;
            perSeries[s.Name] = new JsonObject
            {
                ["ks"] = Math.Round(s.Ks, 4),
                ["excess_kurtosis"] = new JsonArray(Math.Round(s.ExcessKurtosis.Real, 3), Math.Round(s.ExcessKurtosis.Synthetic, 3)),
                ["var99"] = new JsonArray(Math.Round(s.Var.Real, 5), Math.Round(s.Var.Synthetic, 5)),
                ["es99"] = new JsonArray(Math.Round(s.Es.Real, 5), Math.Round(s.Es.Synthetic, 5)),
                ["kurtosis_ratio"] = Math.Round(k, 3),
                ["var_ratio"] = Math.Round(v, 3),
                ["es_ratio"] = Math.Round(e, 3),
            };
        }

        var result = new JsonObject
        {
            ["command"] = Name,
            ["data"] = Path.GetFileName(data),
            ["train_rows"] = train.RowCount,
            ["train_range"] = $"{Iso(train.Dates[0])}..{Iso(train.Dates[^1])}",
            ["holdout_rows"] = holdout.RowCount,
            ["threads"] = threads,
            ["loadavg_at_start"] = load,
            ["config"] = JsonNode.Parse(JsonSerializer.Serialize(generator.Options, DiffusionJson.Options)),
            ["model_id"] = generator.ModelId,
            ["train_steps"] = generator.Manifest.Training.Steps,
            ["train_seconds"] = reused ? null : Math.Round(trainSeconds, 1),
            ["reused_model"] = reused,
            ["final_loss"] = generator.Manifest.Training.FinalLoss,
            ["samples"] = samples,
            ["sampler"] = $"{main.Kind.WireName()}-{(main.Kind == SamplerKind.Ddpm ? generator.Schedule.Steps : main.Steps)} ({main.Spacing})",
            ["sample_seconds"] = Math.Round(ddimSeconds, 2),
            ["ks_mean"] = fidelity.KsMean,
            ["ks_max"] = fidelity.KsMax,
            ["corr_distance"] = fidelity.CorrDistance,
            ["lower_tail_dependence_error"] = LowerTailDependenceError(fidelity.LowerTailDependence),
            ["pass_ks_mean_0.03"] = fidelity.KsMean <= 0.03,
            ["pass_corr_distance_0.05"] = fidelity.CorrDistance <= 0.05,
            ["pass_kurtosis_25pct"] = kurtosisOk,
            ["kurtosis_bootstrap_draws_failing_of_100"] = bootstrapFailures,
            ["pass_var_es_10pct"] = riskOk,
            ["privacy"] = new JsonObject
            {
                ["n"] = n,
                ["share_closer_to_train"] = privacy.ShareCloserToTrain,
                ["bound"] = bound,
                ["pass"] = privacy.ShareCloserToTrain <= bound,
                ["baseline_fresh_train_period_rows"] = baseline,
                ["share_closer_to_train_all_samples"] = privacyAll.ShareCloserToTrain,
                ["bound_all_samples"] = 0.5 + (1.645 * Math.Sqrt(0.25 / samples)),
                ["dcr_train_median"] = privacy.DcrTrainMedian,
                ["dcr_holdout_median"] = privacy.DcrHoldoutMedian,
            },
            ["privacy_iid_holdout"] = iid,
            ["ddpm_vs_ddim"] = speed,
            ["per_series"] = perSeries,
        };
        Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        bool pass = fidelity.KsMean <= 0.03 && fidelity.CorrDistance <= 0.05 && kurtosisOk && riskOk && privacy.ShareCloserToTrain <= bound
            && (speed is null || (speed["pass_ks_within_0.01"]!.GetValue<bool>() && speed["pass_speedup_15x"]!.GetValue<bool>()));
        return pass ? 0 : 3;
    }

    private static double Ratio(Pair p) => p.Synthetic / p.Real;

    private static SeriesSet ToSet(TimeSeriesFrame frame) =>
        new([.. frame.Columns], [.. Enumerable.Range(0, frame.ColumnCount).Select(frame.Column)]);

    private static TimeSeriesFrame Rows(TimeSeriesFrame frame, int[] rows)
    {
        int d = frame.ColumnCount;
        var values = new double[rows.Length * d];
        for (int i = 0; i < rows.Length; i++) frame.Row(rows[i]).CopyTo(values.AsSpan(i * d, d));
        return new TimeSeriesFrame([], frame.Columns, values, rows.Length);
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // What the smoothed bootstrap does to the training target itself, with no network: the train rows through the
    // quantile-normal transform, `samples` rows drawn uniformly (Philox stream 9) and smoothed with bandwidth h
    // (SmoothedBootstrap, stream 6), clamped to the train range in model space and mapped back, against the train rows.
    // h = 0 is the plain bootstrap of the train rows (the floor of every figure at this sample size).
    private static JsonObject SmoothingTarget(TimeSeriesFrame train, DiffusionGeneratorOptions options, int samples, ulong seed, string bandwidths)
    {
        var transform = new Crucible.Data.Transforms.TransformPipeline([new Crucible.Data.Transforms.QuantileNormalTransform(options.QuantileKnots)]);
        var model = transform.Fit(train);
        int d = train.ColumnCount, rows = train.RowCount;
        var x = new float[rows * d];
        var lo = new double[d];
        var hi = new double[d];
        Array.Fill(lo, double.PositiveInfinity);
        Array.Fill(hi, double.NegativeInfinity);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)model.Values[i];
            lo[i % d] = Math.Min(lo[i % d], x[i]);
            hi[i % d] = Math.Max(hi[i % d], x[i]);
        }

        var result = new JsonObject { ["command"] = "tabular-fidelity --smoothing-target", ["samples"] = samples, ["seed"] = seed };
        foreach (string text in bandwidths.Split(','))
        {
            double h = double.Parse(text, CultureInfo.InvariantCulture);
            var kernel = Diffusion.Training.SmoothedBootstrap.Fit(x, rows, d, h);
            var pick = new Philox(seed, stream: 9);
            var z = new Philox(seed, stream: Diffusion.Training.DiffusionTrainer.SmoothingStream);
            var drawn = new double[samples * d];
            var y = new float[d];
            for (int r = 0; r < samples; r++)
            {
                kernel.Smooth(x.AsSpan(pick.NextInt(rows) * d, d), z, y);
                for (int j = 0; j < d; j++) drawn[(r * d) + j] = Math.Clamp(y[j], lo[j], hi[j]);
            }

            var smoothed = transform.Inverse(new TimeSeriesFrame([], train.Columns, drawn, samples));
            var report = Evaluator.Evaluate(new EvaluationInput(ToSet(train), ToSet(smoothed)), new EvaluationOptions { Alpha = 0.99 });
            int kurtosisOut = 0, riskOut = 0;
            foreach (var s in report.PerSeries)
            {
                if (Math.Abs(Ratio(s.ExcessKurtosis) - 1) > 0.25) kurtosisOut++;
                if (Math.Abs(Ratio(s.Var) - 1) > 0.10 || Math.Abs(Ratio(s.Es) - 1) > 0.10) riskOut++;
            }

            result[text] = new JsonObject
            {
                ["ks_mean"] = report.KsMean,
                ["corr_distance"] = report.CorrDistance,
                ["lower_tail_dependence_error"] = LowerTailDependenceError(report.LowerTailDependence),
                ["kurtosis_out_of_25pct"] = kurtosisOut,
                ["var_es_out_of_10pct"] = riskOut,
            };
        }

        return result;
    }

    // mean over ordered pairs i ≠ j of |λ_L real − λ_L synthetic| (the evaluator's empirical lower-tail dependence at
    // u = 0.05), as GeneratorComparison's tail column: what a kernel that mixes the copula with a Gaussian may cost
    private static double LowerTailDependenceError(MatrixPair tail)
    {
        double sum = 0;
        int pairs = 0;
        for (int i = 0; i < tail.Real.Length; i++)
        {
            for (int j = 0; j < tail.Real.Length; j++)
            {
                if (i == j) continue;
                sum += Math.Abs(tail.Real[i][j] - tail.Synthetic[i][j]);
                pairs++;
            }
        }

        return pairs == 0 ? double.NaN : Math.Round(sum / pairs, 5);
    }
}
