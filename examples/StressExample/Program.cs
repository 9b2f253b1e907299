using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.Splits;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Evaluation;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;
using static System.FormattableString;

// Fit the conditional sequence generator on 20-day windows, draw baseline and stressed scenarios, and compare the risk
// of an equal-weight portfolio under both.
var csv = args.Length > 0 ? args[0] : "data/demo/ff10_treasury_demo.csv";
var read = CsvSeriesReader.Load(csv, new CsvReadOptions { Input = InputKind.PercentReturns });
var returns = read.SelectColumns(["NoDur", "Manuf", "Enrgy", "HiTec", "Hlth", "Utils"]).ToLogReturns(InputKind.PercentReturns);
var state = read.SelectColumns(["DGS3MO", "DGS10", "DFF"]);   // rates as of each day; the features lag them one day
var train = TimeSplitter.TrainHoldout(returns, new DateOnly(2019, 12, 31), embargoRows: 20, window: 20).Train(returns);

// the condition features by date, built once over the whole history: Fit reads the train period's rows only, and the
// crisis archetypes are the features' means over their episodes (gfc-2008: 2008-09-15 to 2009-03-09)
var features = EconomicState.Build(state, returns, ["DFF", "TERM", "RV20"]);   // TERM = DGS10 − DGS3MO; RV20 from returns
var options = new SequenceGeneratorOptions
{
    Window = 20, Seed = 1,
    Training = SequenceGeneratorOptions.DefaultTraining with { Steps = 200 },   // default 3,000: 200 to take seconds
};
var generator = new SequenceGenerator(options).Fit(train, features, CrisisArchetypes.Compute(features));

var sampler = new SamplerOptions(SamplerKind.DpmSolver2M, 20);
ScenarioSet baseline = generator.Generate(500, seed: 7, new SequenceSampleRequest(Sampler: sampler));
ScenarioSet stressed = generator.Generate(500, seed: 7,
    new SequenceSampleRequest(GuidanceScale: 2, Sampler: sampler, Stress: "gfc-2008; HiTec<=-20%"));

var portfolio = new Portfolio("equal weight", [.. returns.Columns.Select(c => new Holding(c, 1.0 / returns.ColumnCount))]);
double Es(ScenarioSet set, string name)
{
    var risk = StressAnalysis.Run(SeriesSet.FromFrame(set.Values, generator.Window), portfolio, [0.99]).Levels[0];
    Console.WriteLine(Invariant($"{name}: 20-day VaR99 {risk.ValueAtRisk:F4}, ES99 {risk.ExpectedShortfall:F4} (log-return loss)"));
    return risk.ExpectedShortfall;
}

double baselineEs = Es(baseline, "baseline"), stressedEs = Es(stressed, stressed.Metadata.Stress!);
var conditions = string.Join(", ", stressed.Metadata.Conditions.Select(c => Invariant($"{c.Key}={c.Value:F2}")));
var moves = string.Join(" and ", stressed.Metadata.Constraints!);
Console.WriteLine(Invariant($"conditions {conditions}; windows violating {moves}: {stressed.Metadata.ConstraintViolationRate:P1}"));
return stressedEs > baselineEs ? 0 : 1;
