using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.Splits;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Evaluation;
using static System.FormattableString;

// Read a return CSV, fit a tabular diffusion generator on the train rows, sample, save, reload, sample again, evaluate.
var csv = args.Length > 0 ? args[0] : "data/demo/ff10_treasury_demo.csv";
var folder = args.Length > 1 ? args[1] : "tabular-model";

// the file's dialect and units; strict by default: a bad cell is an InvalidInputException naming file:line:column and rule
var read = CsvSeriesReader.Load(csv, new CsvReadOptions
{
    Input = InputKind.PercentReturns,   // or Prices, SimpleReturns, LogReturns
    Delimiter = ',', DecimalSeparator = '.', DateFormat = "yyyy-MM-dd",
    ColumnDomains = new Dictionary<string, ColumnDomain> { ["DFF"] = ColumnDomain.AnyFinite },   // a rate, not a return
});
var returns = read.SelectColumns(["NoDur", "HiTec", "Hlth", "Utils"]).ToLogReturns(InputKind.PercentReturns);
var train = TimeSplitter.TrainHoldout(returns, new DateOnly(2019, 12, 31), embargoRows: 1, window: 1).Train(returns);

// the defaults train 2,000 steps (hidden 256, 3 blocks), as the CLI does; 300 here so that the example takes seconds
var options = new DiffusionGeneratorOptions { Seed = 1, Training = new TrainerOptions(Steps: 300) };
var generator = new DiffusionGenerator(options).Fit(train);
TimeSeriesFrame scenarios = generator.Sample(count: 2_000, seed: 7);   // log returns, original units: 2,000 × 4

generator.Save(folder);                                               // weights.safetensors + manifest.json, atomically
var again = DiffusionGenerator.Load(folder);                          // checks the weights' SHA-256
bool same = ScenarioCsv.Format(again.Sample(count: 2_000, seed: 7)).AsSpan().SequenceEqual(ScenarioCsv.Format(scenarios));

var report = Evaluator.Evaluate(new EvaluationInput(
    Real: SeriesSet.FromFrame(train), Synthetic: SeriesSet.FromFrame(scenarios, stepsPerScenario: 1)));
Console.WriteLine(Invariant($"{train.RowCount} train rows, model {generator.ModelId[..12]}, reloaded sample identical: {same}"));
Console.WriteLine(Invariant($"ks_mean {report.KsMean:F4}, corr_distance {report.CorrDistance:F4}"));
return same ? 0 : 1;
