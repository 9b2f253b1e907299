// Times one evaluation run the way eval_ref.py is timed: load the CSVs, evaluate, write report.json (and report.html).
// Usage: Crucible.EvalBench REAL.csv SYNTH.csv [--train TRAIN.csv] [--alpha 0.99] [--out report.json] [--html report.html]
using System.Diagnostics;
using System.Globalization;
using Crucible.Evaluation;
using Crucible.Evaluation.Reporting;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Crucible.EvalBench REAL.csv SYNTH.csv [--train TRAIN.csv] [--alpha A] [--out report.json] [--html report.html]");
    return 2;
}
string? train = null, outPath = null, html = null;
var alpha = 0.99;
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--train": train = args[++i]; break;
        case "--alpha": alpha = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": outPath = args[++i]; break;
        case "--html": html = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
var total = Stopwatch.StartNew();
var input = new EvaluationInput(SeriesSetCsv.Read(args[0]), SeriesSetCsv.Read(args[1]), train is null ? null : SeriesSetCsv.Read(train));
var loaded = total.Elapsed.TotalSeconds;
var compute = Stopwatch.StartNew();
var report = Evaluator.Evaluate(input, new EvaluationOptions { Alpha = alpha });
var seconds = compute.Elapsed.TotalSeconds;
if (outPath is not null) ReportJson.Write(report, outPath);
if (html is not null) ReportHtml.Write(report, html);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"load_seconds={loaded:F3} evaluate_seconds={seconds:F3} total_seconds={total.Elapsed.TotalSeconds:F3}"));
return 0;
