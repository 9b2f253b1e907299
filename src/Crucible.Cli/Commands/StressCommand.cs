using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Governance.Manifests;
using Crucible.Stress;
using Crucible.Stress.Reporting;
using Crucible.Stress.Reverse;
using Crucible.Stress.Risk;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible stress --scenarios FILE --portfolio FILE.json [--alpha A …] --out FILE.json</c>: portfolio VaR, ES and
/// CDaR under a scenario set at each α (METRICS.md), and the Euler allocation of ES per series and factor group; with
/// <c>--reverse --loss-threshold X --history FILE</c> also the reverse stress test over the file's scenarios, or with
/// <c>--model DIR</c> over candidates drawn from a sequence model and guided toward the loss.
/// Exit 0 on success, 2 on bad input (file, line, column and rule named).
/// </summary>
internal static class StressCommand
{
    /// <summary>The options of one <c>stress</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Scenarios = new("--scenarios")
        {
            Description = "Scenario CSV (scenario,step,<series…> log returns); a plain returns file is taken as one-step scenarios",
            Required = true,
        };

        public readonly Option<string> Portfolio = new("--portfolio")
        {
            Description = "Portfolio JSON: {\"name\": …, \"weights\": {SERIES: w}} or {\"positions\": {SERIES: value}}, optional leverage, capital, groups",
            Required = true,
        };

        public readonly Option<string[]> Alpha = new("--alpha")
        {
            Description = "Confidence levels in (0, 1), repeatable (default 0.95 0.975 0.99)",
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<bool> Reverse = new("--reverse")
        {
            Description = "Also reverse-stress: the scenarios losing at least --loss-threshold, most plausible first (needs --history)",
        };

        public readonly Option<double?> LossThreshold = new("--loss-threshold") { Description = "Reverse stress: loss as a fraction of capital over the horizon, e.g. 0.15" };

        public readonly Option<string> History = new("--history") { Description = "Reverse stress: dated CSV of historical prices the plausibility is measured against" };

        public readonly Option<string> HistoryInput = new("--history-input")
        {
            Description = "What the history's values are: prices (default), returns, log-returns or percent",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<int> Top = new("--top") { Description = "Reverse stress: breaching scenarios to report (default 20)", DefaultValueFactory = _ => 20 };

        public readonly Option<string> Model = new("--model")
        {
            Description = "Reverse stress: draw the candidates from this sequence model (over its window), guided toward the loss, instead of the file's scenarios",
        };

        public readonly Option<int> Candidates = new("--candidates") { Description = "Reverse stress with --model: candidates drawn (default 10000)", DefaultValueFactory = _ => 10_000 };

        public readonly Option<double> Guidance = new("--guidance-scale")
        {
            Description = "Reverse stress with --model: guidance scale toward the loss (default 1; 0 draws unguided candidates and filters them)",
            DefaultValueFactory = _ => 1.0,
        };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Reverse stress with --model: seed of the draws (default 0)" };

        public readonly Option<bool> Adversarial = new("--adversarial")
        {
            Description = "Also the adversarial scenarios of --model: the worst portfolio losses among its scenarios at least as plausible as 95% of its ordinary draws (needs --model and --history)",
        };

        public readonly Option<double?> MinBreachRate = new("--min-breach-rate")
        {
            Description = "Reverse stress with --model: the declared share of candidates that must breach; below it the guidance scale is doubled and the test rerun (up to 3 attempts, all recorded)",
        };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the stress report JSON", Required = true };

        public readonly Option<string> Home = HomeOption.Create();
    }

    /// <summary>The <c>stress</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("stress", "Portfolio VaR, ES and CDaR under a scenario set, with the Euler allocation of ES")
        {
            o.Scenarios, o.Portfolio, o.Alpha, o.Reverse, o.LossThreshold, o.History, o.HistoryInput, o.Top, o.Model, o.Candidates, o.Guidance, o.Seed, o.MinBreachRate, o.Adversarial, o.Out, o.Home,
        };
        o.HistoryInput.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Runs the stress test for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        var alphas = ParseAlphas(parse.GetValue(o.Alpha));
        ReverseOptions? reverse = null;
        if (parse.GetValue(o.Reverse))
        {
            var threshold = parse.GetValue(o.LossThreshold)
                ?? throw new InvalidInputException("OPT-E", "--reverse needs --loss-threshold X (a fraction of capital, e.g. 0.15)");
            var historyPath = parse.GetValue(o.History) ?? throw new InvalidInputException("OPT-E", "--reverse needs --history FILE (the plausibility reference)");
            var input = TrainCommand.InputKindOf(parse.GetValue(o.HistoryInput));
            var history = CsvSeriesReader.Load(historyPath, new CsvReadOptions { Input = input }).ToLogReturns(input);
            reverse = new ReverseOptions(threshold, history, parse.GetValue(o.Top), parse.GetValue(o.Model), parse.GetValue(o.Candidates),
                parse.GetValue(o.Guidance), parse.GetValue(o.Seed), parse.GetValue(o.MinBreachRate));
        }
        else if (parse.GetValue(o.Model) is not null && !parse.GetValue(o.Adversarial))
        {
            throw new InvalidInputException("OPT-E", "--model is for --reverse or --adversarial");
        }
        else if (parse.GetValue(o.LossThreshold) is not null)
        {
            throw new InvalidInputException("OPT-E", "--loss-threshold is for --reverse");
        }

        if (parse.GetValue(o.MinBreachRate) is not null && reverse?.Model is null)
            throw new InvalidInputException("OPT-E", "--min-breach-rate is for --reverse with --model");
        var home = HomeOption.Resolve(parse, o.Home);
        var run = RunManifests.Start(home, "stress", new JsonObject
        {
            ["command"] = "stress",
            ["alphas"] = new JsonArray([.. alphas.Select(a => (JsonNode?)a)]),
            ["reverse"] = reverse is null ? null : new JsonObject
            {
                ["loss_threshold"] = reverse.LossThreshold, ["top"] = reverse.Top, ["candidates"] = reverse.Candidates,
                ["guidance_scale"] = reverse.GuidanceScale, ["min_breach_rate"] = reverse.MinBreachRate, ["from_model"] = reverse.Model is not null,
            },
            ["adversarial"] = parse.GetValue(o.Adversarial),
        }, parse.GetValue(o.Seed));
        run.AddInput(parse.GetValue(o.Scenarios)!).AddInput(parse.GetValue(o.Portfolio)!);
        if (reverse is not null) run.AddInput(parse.GetValue(o.History)!);
        if (reverse?.Model is { } model)
        {
            run.AddInput(Path.Combine(model, "weights.safetensors")).AddInput(Path.Combine(model, "manifest.json"));
            run.ModelId = Governance.FileHash.Sha256(Path.Combine(model, "weights.safetensors"));
        }

        if (Evaluation.ScenarioSidecar.PriceMetadataOf(parse.GetValue(o.Scenarios)!) is { } priceMeta) run.AddInput(priceMeta); // it says which columns are prices
        if (Evaluation.ScenarioSidecar.Warning(parse.GetValue(o.Scenarios)!) is { } warning) Console.Error.WriteLine("warning: " + warning);
        var (result, source, reverseResult) = StressFiles.Run(parse.GetValue(o.Scenarios)!, parse.GetValue(o.Portfolio)!, alphas, reverse);
        AdversarialResult? adversarial = null;
        if (parse.GetValue(o.Adversarial))
        {
            var modelFolder = parse.GetValue(o.Model) ?? throw new InvalidInputException("OPT-E", "--adversarial needs --model DIR (a sequence model)");
            var historyPath = parse.GetValue(o.History) ?? throw new InvalidInputException("OPT-E", "--adversarial needs --history FILE (the plausibility reference)");
            var input = TrainCommand.InputKindOf(parse.GetValue(o.HistoryInput));
            var history = CsvSeriesReader.Load(historyPath, new CsvReadOptions { Input = input }).ToLogReturns(input);
            adversarial = StressFiles.RunAdversarial(modelFolder, history, result.Portfolio, Math.Max(10, parse.GetValue(o.Candidates) / 5),
                parse.GetValue(o.Top), parse.GetValue(o.Guidance) > 0 ? parse.GetValue(o.Guidance) : 1.0, parse.GetValue(o.Seed));
            if (reverse is null)
            {
                run.AddInput(historyPath).AddInput(Path.Combine(modelFolder, "weights.safetensors")).AddInput(Path.Combine(modelFolder, "manifest.json"));
                run.ModelId = Governance.FileHash.Sha256(Path.Combine(modelFolder, "weights.safetensors"));
            }
        }

        var outPath = parse.GetValue(o.Out)!;
        StressJson.Write(result, source, outPath, reverseResult, adversarial);
        if (reverseResult?.Calibration is { } attempts)
        {
            // the recalibration loop's attempts (issue #8): every guidance scale tried, its breach rate and verdict
            run.Outcome = new JsonObject
            {
                ["recalibration"] = new JsonArray([.. attempts.Select(a => (JsonNode?)new JsonObject
                {
                    ["guidance_scale"] = a.GuidanceScale, ["breach_rate"] = a.BreachRate,
                    ["median_plausibility"] = double.IsFinite(a.MedianPlausibility) ? a.MedianPlausibility : null, ["passed"] = a.Passed,
                })]),
            };
        }

        var (manifest, receipts) = RunAudit.Complete(home, run.AddOutput(outPath),
            new JsonObject { ["command"] = "stress", ["report_sha256"] = Governance.FileHash.Sha256(outPath) });
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"portfolio:  {result.Portfolio.Name} ({result.Scenarios} scenarios of {result.Steps.Min}–{result.Steps.Max} steps)"));
        foreach (var l in result.Levels)
            output.WriteLine(string.Create(inv, $"α {l.Alpha:G6}: VaR {l.ValueAtRisk:G6}, ES {l.ExpectedShortfall:G6}, CDaR {l.ConditionalDrawdown:G6} (tail {l.TailCount})"));
        if (reverseResult is { } rv)
        {
            output.WriteLine(string.Create(inv,
                $"reverse:    {rv.Breaching} of {rv.Candidates} {rv.Sampling} scenarios lose ≥ {reverse!.LossThreshold:P1}; drivers: {string.Join(", ", rv.Series.Select((s, i) => (s, v: rv.MeanAttribution[i])).OrderByDescending(x => x.v).Take(3).Select(x => string.Create(inv, $"{x.s} {x.v:G3}")))}"));
        }

        if (reverseResult?.Calibration is { } tried)
        {
            output.WriteLine(string.Create(inv,
                $"recalibration: {string.Join(" → ", tried.Select(a => $"scale {a.GuidanceScale:G3}: {a.BreachRate:P1} {(a.Passed ? "pass" : "fail")}"))}"));
        }

        if (adversarial is { Worst.Count: > 0 } adv)
        {
            output.WriteLine(string.Create(inv,
                $"adversarial: worst plausible loss {adv.Worst[0].Loss:P1} ({adv.Plausible} of {adv.Candidates} candidates at or above the plausibility floor {adv.Floor:G4})"));
        }

        output.WriteLine($"report:     {outPath}");
        output.WriteLine($"manifest:   {manifest}");
        output.WriteLine(string.Create(inv, $"audit:      entry {receipts[^1].Seq} in {home.AuditDatabase}"));
        return ExitCode.Success;
    }

    private static double[] ParseAlphas(string[]? texts)
    {
        if (texts is null || texts.Length == 0) return [.. StressAnalysis.DefaultAlphas];
        var alphas = new List<double>();
        foreach (var text in texts.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var a) || !(a > 0 && a < 1))
                throw new InvalidInputException("OPT-E", $"--alpha takes numbers in (0, 1), got '{text}'");
            if (!alphas.Contains(a)) alphas.Add(a);
        }

        return [.. alphas];
    }
}
