// Times one evaluation run the way eval_ref.py is timed: load the CSVs, evaluate, write report.json (and report.html).
// Usage: Crucible.EvalBench REAL.csv SYNTH.csv [--train TRAIN.csv] [--alpha 0.99] [--out report.json] [--html report.html]
//        [--phases] [--no-utility] [--no-membership]
using System.Diagnostics;
using System.Globalization;
using Crucible.Evaluation;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Reporting;
using Crucible.Evaluation.Statistics;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Crucible.EvalBench REAL.csv SYNTH.csv [--train TRAIN.csv] [--alpha A] [--out report.json] [--html report.html]");
    return 2;
}
string? train = null, outPath = null, html = null;
var phases = false;
var utility = true;
var membership = true;
var alpha = 0.99;
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--train": train = args[++i]; break;
        case "--alpha": alpha = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": outPath = args[++i]; break;
        case "--html": html = args[++i]; break;
        case "--phases": phases = true; break;
        case "--no-utility": utility = false; break;
        case "--no-membership": membership = false; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
var total = Stopwatch.StartNew();
var input = new EvaluationInput(SeriesSetCsv.Read(args[0]), SeriesSetCsv.Read(args[1]), train is null ? null : SeriesSetCsv.Read(train));
var loaded = total.Elapsed.TotalSeconds;
var compute = Stopwatch.StartNew();
var report = Evaluator.Evaluate(input, new EvaluationOptions { Alpha = alpha, Utility = utility, MembershipInference = membership });
var seconds = compute.Elapsed.TotalSeconds;
if (outPath is not null) ReportJson.Write(report, outPath);
if (html is not null) ReportHtml.Write(report, html);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"load_seconds={loaded:F3} evaluate_seconds={seconds:F3} total_seconds={total.Elapsed.TotalSeconds:F3}"));
if (phases)
{
    // the building blocks on their own, to see where the time goes
    void Time(string name, Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-28} {sw.Elapsed.TotalSeconds:F3} s"));
    }
    var s = input.Synthetic;
    Time("correlation matrix", () => Dependence.CorrelationMatrix(s.Columns));
    Time("tail dependence matrix", () => Dependence.LowerTailDependenceMatrix(s.Columns));
    Time("ks + wasserstein", () => Parallel.For(0, s.SeriesCount, i => Distances.KolmogorovSmirnovAndWasserstein(input.Real.Columns[i], s.Columns[i])));
    Time("acf + pacf + leverage", () => Parallel.For(0, s.SeriesCount, i =>
    {
        Temporal.Autocorrelation(s.Columns[i], 20);
        Temporal.PartialAutocorrelation(s.Columns[i], 20);
        Temporal.Leverage(s.Columns[i], 20);
    }));
    Time("moments", () => Parallel.For(0, s.SeriesCount, i =>
    {
        Descriptive.Skewness(s.Columns[i]);
        Descriptive.ExcessKurtosis(s.Columns[i]);
    }));
    if (input.Train is not null)
    {
        Time("dcr (train + holdout)", () => DistanceToClosestRecord.Distances(s, input.Train, input.Real));
        Time("dcr, one thread", () => DistanceToClosestRecord.Distances(s, input.Train, input.Real, maxDegreeOfParallelism: 1));
        Time("privacy audit (balanced DCR share, IMS, NNDR)", () => PrivacyAudit.Run(s, input.Train, input.Real, 0));
        Time("membership inference", () => MembershipInference.Domias(s, input.Train, input.Real));
        Time("utility (both targets)", () => Crucible.Evaluation.Utility.UtilityEvaluation.Evaluate(input.Train, s, input.Real));
    }
    Console.WriteLine($"  Vector512.IsHardwareAccelerated={System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
}
return 0;
