using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.Splits;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Evaluation;
using static System.FormattableString;

// The tabular example's data, seed and steps, trained with DP-SGD for (ε = 3, δ = 1e-5) per record.
var csv = args.Length > 0 ? args[0] : "data/demo/ff10_treasury_demo.csv";
var folder = args.Length > 1 ? args[1] : "private-model";
var read = CsvSeriesReader.Load(csv, new CsvReadOptions { Input = InputKind.PercentReturns });
var returns = read.SelectColumns(["NoDur", "HiTec", "Hlth", "Utils"]).ToLogReturns(InputKind.PercentReturns);
var train = TimeSplitter.TrainHoldout(returns, new DateOnly(2019, 12, 31), embargoRows: 1, window: 1).Train(returns);

// σ is calibrated for the target ε over the planned steps; a plan past the budget (default 10) is refused before training.
// Nothing is fitted on the private rows: a public scale (2% a day) and clip (±5 scales) replace the quantile transform.
var options = new DiffusionGeneratorOptions { Seed = 1, Training = new TrainerOptions(Steps: 300) }
    .WithPrivacy(new DpTrainingOptions { TargetEpsilon = 3, Delta = 1e-5, MaxGradNorm = 1 });
var generator = new DiffusionGenerator(options).Fit(train);
generator.Save(folder);   // the manifest carries the DP statement and no hash of the private rows

PrivacyManifest dp = generator.Manifest.Privacy!;
Console.WriteLine(Invariant($"(ε, δ) = ({dp.Epsilon:F3}, {dp.Delta:G}), unit {dp.Unit}, {dp.Steps} steps"));
Console.WriteLine(Invariant($"σ {dp.NoiseMultiplier:F4}, C {dp.MaxGradNorm:G}, q {dp.SampleRate:F5}, N {dp.DatasetSize}"));

var report = Evaluator.Evaluate(new EvaluationInput(
    Real: SeriesSet.FromFrame(train), Synthetic: SeriesSet.FromFrame(generator.Sample(count: 2_000, seed: 7), stepsPerScenario: 1)));
Console.WriteLine(Invariant($"ks_mean {report.KsMean:F4}, corr_distance {report.CorrDistance:F4}"));
return dp.Epsilon <= 3 ? 0 : 1;
