// Issue #8's reverse-stress Done-when: a 60/40 SPY/TLT portfolio, 20-day loss threshold 15%, guided sampling from the
// sequence diffusion model versus rejection among unguided samples; breach rates, plausibility and Euler attribution.
// Usage: Crucible.ReverseBench PRICES.csv [--train-end 2019-12-31] [--columns SPY,TLT] [--steps 1500] [--candidates 2000]
//        [--threshold 0.15] [--horizon 20] [--scale 1] [--seed 1] [--model DIR (load) | --save DIR] [--metric covariance|noise-scale]
//        [--out result.json]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reverse;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Crucible.ReverseBench PRICES.csv [--train-end D] [--columns A,B] [--steps N] [--candidates N] [--threshold X] [--horizon W] [--scale L] [--seed S] [--model DIR | --save DIR] [--out FILE]");
    return 2;
}

var inv = CultureInfo.InvariantCulture;
string trainEnd = "2019-12-31", columns = "SPY,TLT";
string? modelDir = null, saveDir = null, outPath = null;
var metric = GuidanceMetric.ModelCovariance;
int steps = 1500, candidates = 2000, horizon = 20;
double threshold = 0.15, scale = 1.0;
ulong seed = 1;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--train-end": trainEnd = args[++i]; break;
        case "--columns": columns = args[++i]; break;
        case "--steps": steps = int.Parse(args[++i], inv); break;
        case "--candidates": candidates = int.Parse(args[++i], inv); break;
        case "--threshold": threshold = double.Parse(args[++i], inv); break;
        case "--horizon": horizon = int.Parse(args[++i], inv); break;
        case "--scale": scale = double.Parse(args[++i], inv); break;
        case "--seed": seed = ulong.Parse(args[++i], inv); break;
        case "--model": modelDir = args[++i]; break;
        case "--save": saveDir = args[++i]; break;
        case "--out": outPath = args[++i]; break;
        case "--metric": metric = args[++i] == "noise-scale" ? GuidanceMetric.NoiseScale : GuidanceMetric.ModelCovariance; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

var names = columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var returns = CsvSeriesReader.Load(args[0], new CsvReadOptions { Input = InputKind.Prices }).ToLogReturns(InputKind.Prices).SelectColumns(names);
var split = returns.IndexAtOrBefore(DateOnly.ParseExact(trainEnd, "yyyy-MM-dd", inv)) + 1;
var train = returns.Slice(0, split);
Console.WriteLine(string.Create(inv, $"train: {train.RowCount} days of {string.Join(",", names)} to {trainEnd}; threads {Environment.ProcessorCount}"));

var clock = Stopwatch.StartNew();
SequenceGenerator model;
if (modelDir is not null)
{
    model = SequenceGenerator.Load(modelDir);
}
else
{
    var options = new SequenceGeneratorOptions
    {
        Window = horizon,
        Seed = seed,
        Training = new TrainerOptions(Steps: steps, BatchSize: 128, LearningRate: 2e-3, WarmupSteps: Math.Min(100, steps / 10)),
    };
    model = new SequenceGenerator(options).Fit(train,
        progress: new Progress<TrainingProgress>(p => { if (p.Step % 500 == 0) Console.WriteLine(string.Create(inv, $"  step {p.Step}/{p.TotalSteps} loss {p.Loss:G4} ({p.StepsPerSecond:F1} steps/s)")); }));
    if (saveDir is not null) model.Save(saveDir);
}

var trainSeconds = clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(inv, $"model: {(modelDir is null ? "trained" : "loaded")} in {trainSeconds:F1} s, final loss {model.Manifest.Training.FinalLoss:G4}"));

var portfolio = new Portfolio("60/40 SPY/TLT", [new Holding("SPY", 0.6), new Holding("TLT", 0.4)]);
var fitted = new FittedSequenceDiffusion(model, new SequenceSampleRequest(Sampler: new SamplerOptions(Steps: 50))) { Metric = metric };
if (metric == GuidanceMetric.ModelCovariance)
    Console.WriteLine(string.Create(inv, $"guidance metric: model covariance (model space) [{string.Join(", ", fitted.ModelCovariance.Select(v => v.ToString("G4", inv)))}]"));
var plausibility = new NearestWindowPlausibility(train);
var request = new ReverseStressRequest { Portfolio = portfolio, LossThreshold = threshold, Horizon = horizon, Candidates = candidates, Top = 10, Seed = seed + 100 };

clock.Restart();
var unguidedWindows = fitted.Sample(candidates, horizon, request.Seed);
var rejection = ReverseStress.Evaluate(unguidedWindows, request, plausibility, fitted.Name, "rejection");
var unguidedScores = plausibility.Score(unguidedWindows);
var rejectionSeconds = clock.Elapsed.TotalSeconds;
clock.Restart();
// declared threshold: ≥ 90% of the guided candidates breach; the loop doubles the scale when it fails (all attempts recorded)
var calibrated = Recalibration.Run(fitted, request with { GuidanceScale = scale }, plausibility, minBreachRate: 0.9, factor: 2, maxAttempts: 3);
var guided = calibrated.Result;
foreach (var a in calibrated.Attempts)
    Console.WriteLine(string.Create(inv, $"attempt: scale {a.GuidanceScale}, breach rate {a.BreachRate:P2}, median plausibility of the top {a.MedianPlausibility:F3}, {(a.Passed ? "passed" : "failed")}"));
var guidedSeconds = clock.Elapsed.TotalSeconds;

// historical reference: the train windows that breach, scored against the train history itself (they score 0) are
// not informative; the holdout's breaching windows (if any) are
var holdout = returns.Slice(Math.Max(0, split - horizon + 1), returns.RowCount);
var historicalWindows = new ScenarioWindows(names, holdout.RowCount - horizon + 1, horizon,
    [.. Enumerable.Range(0, holdout.RowCount - horizon + 1).SelectMany(s => holdout.Values.AsSpan(s * names.Length, horizon * names.Length).ToArray())]);
var historical = ReverseStress.Evaluate(historicalWindows, request with { Candidates = historicalWindows.Count }, plausibility, "holdout", "historical");

static double Median(IEnumerable<double> xs)
{
    var a = xs.Order().ToArray();
    return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : (a[(a.Length / 2) - 1] + a[a.Length / 2]) / 2;
}

void Print(string label, ReverseStressResult r, double seconds)
{
    Console.WriteLine(string.Create(inv, $"{label}: {r.Breaching} of {r.Candidates} breach (rate {r.BreachRate:P2}) in {seconds:F1} s; mean attribution {string.Join(", ", r.Series.Select((s, i) => $"{s} {r.MeanAttribution[i]:F4}"))}"));
    foreach (var s in r.Top.Take(5))
        Console.WriteLine(string.Create(inv, $"   #{s.Index}: loss {s.Loss:P2}, plausibility {s.Plausibility:F3}, attribution {string.Join(", ", r.Series.Select((n, i) => $"{n} {s.Attribution[i]:F4}"))}, cumulative {string.Join(", ", r.Series.Select((n, i) => $"{n} {s.SeriesReturns[i]:F4}"))}"));
}

Print("rejection (unguided)", rejection, rejectionSeconds);
Console.WriteLine(string.Create(inv, $"   unguided candidates: median plausibility {Median(unguidedScores):F3}"));
Print(string.Create(inv, $"guided (scale {scale})"), guided, guidedSeconds);
var guidedScores = guided.Top.Select(s => s.Plausibility).ToArray();
Print("holdout windows (historical)", historical, 0);

// the model's own likelihood proxy (minus its mean denoising loss) on: unguided candidates, guided breaching
// candidates, and the holdout's breaching windows (at most 1000 each)
clock.Restart();
var denoising = new DenoisingLossPlausibility(model);
ScenarioWindows Subset(ScenarioWindows all, IEnumerable<int> indices)
{
    var idx = indices.Take(1000).ToArray();
    int size = all.Window * all.SeriesCount;
    var v = new double[idx.Length * size];
    for (int j = 0; j < idx.Length; j++) Array.Copy(all.Values, idx[j] * size, v, j * size, size);
    return all with { Count = idx.Length, Values = v };
}

var guidedWindows = fitted.SampleGuided(Math.Min(1000, candidates), horizon, new PortfolioLossObjective(portfolio.WeightsFor(names)), -Math.Log(1 - threshold), scale, request.Seed);
var dUnguided = denoising.Score(Subset(unguidedWindows, Enumerable.Range(0, unguidedWindows.Count)));
var dGuided = denoising.Score(guidedWindows);
var holdoutBreaching = historical.Top.Select(s => s.Index).ToArray();
var dHistorical = holdoutBreaching.Length == 0 ? [] : denoising.Score(Subset(historicalWindows, holdoutBreaching));
var dHoldoutAll = denoising.Score(Subset(historicalWindows, Enumerable.Range(0, historicalWindows.Count)));
Console.WriteLine(string.Create(inv, $"denoising-loss plausibility (median; higher is more plausible), {clock.Elapsed.TotalSeconds:F1} s: unguided {Median(dUnguided):F4}, guided {Median(dGuided):F4}, holdout windows {Median(dHoldoutAll):F4}, holdout breaching {Median(dHistorical):F4}"));
var nearestGuidedAll = plausibility.Score(guidedWindows);
Console.WriteLine(string.Create(inv, $"nearest-window plausibility (median): unguided {Median(unguidedScores):F3}, guided {Median(nearestGuidedAll):F3}, holdout windows {Median(plausibility.Score(historicalWindows)):F3}"));

if (outPath is not null)
{
    var json = JsonSerializer.Serialize(new
    {
        train_end = trainEnd, series = names, threshold, horizon, candidates, guidance_scale = scale, train_seconds = trainSeconds, training_steps = model.Manifest.Config.Training.Steps,
        model_id = model.ModelId,
        unguided_median_plausibility = Median(unguidedScores),
        guided_median_plausibility = Median(nearestGuidedAll),
        denoising_loss_median = new { unguided = Median(dUnguided), guided = Median(dGuided), holdout = Median(dHoldoutAll), holdout_breaching = Median(dHistorical) },
        attempts = calibrated.Attempts, rejection, guided, historical,
    }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
    File.WriteAllText(outPath, json);
}

return 0;
