using System.Globalization;
using System.Security.Cryptography;
using Crucible.Evaluation;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;
using Crucible.Stress.Risk;
using Crucible.Stress.Reverse;
using Crucible.Stress.Generators;
using Crucible.Data;
using Crucible.Diffusion.Sequence;

namespace Crucible.Stress;

/// <summary>The reverse-stress part of a stress request over a scenario file.</summary>
/// <param name="LossThreshold">The loss threshold as a fraction of capital over the scenarios' horizon.</param>
/// <param name="History">Historical log returns the plausibility is measured against (must hold the scenarios' series).</param>
/// <param name="Top">How many breaching scenarios to report.</param>
/// <param name="Model">A sequence model folder (<c>crucible train --kind sequence</c>): when set, the candidates are drawn from
/// it, guided toward the loss (<see cref="ObjectiveGuidance"/>), over its window, instead of the file's scenarios.</param>
/// <param name="Candidates">Candidates drawn from <paramref name="Model"/>.</param>
/// <param name="GuidanceScale">The guidance scale λ (0: unguided draws filtered by the threshold, the rejection path).</param>
/// <param name="Seed">The seed of the draws.</param>
/// <param name="MinBreachRate">With <paramref name="Model"/>: the declared share of candidates that must breach; below it the
/// recalibration loop (<see cref="Recalibration"/>) doubles the guidance scale and reruns, keeping every attempt. Null: one run.</param>
/// <param name="HistoryFile">The file <paramref name="History"/> was read from, when it was: a problem with the history names it.</param>
/// <param name="Request">With <paramref name="Model"/>: the conditions, classifier-free guidance weight and stress specification
/// its candidates are drawn under (null: unconditional, the model's default weight); recorded in the result when it sets any.
/// A specification's moves need unguided candidates (<paramref name="GuidanceScale"/> 0).</param>
public sealed record ReverseOptions(double LossThreshold, TimeSeriesFrame History, int Top = 20, string? Model = null, int Candidates = 10_000,
    double GuidanceScale = 1.0, ulong Seed = 0, double? MinBreachRate = null, string? HistoryFile = null, SequenceSampleRequest? Request = null);

/// <summary>The file-level entry point of <c>crucible stress</c>: read a scenario CSV and a portfolio JSON, stress, report.</summary>
public static class StressFiles
{
    /// <summary>
    /// Reads <paramref name="scenariosPath"/> (<c>scenario,step,&lt;series…&gt;</c> log returns, or a plain returns
    /// file taken as one-step scenarios) and <paramref name="portfolioPath"/>, and stresses the portfolio at each α.
    /// Bad input throws <see cref="Crucible.Data.InvalidInputException"/> naming file, line, column and rule.
    /// </summary>
    public static (StressResult Result, ScenarioSource Source) Run(string scenariosPath, string portfolioPath, IReadOnlyList<double> alphas)
    {
        var (result, source, _) = Run(scenariosPath, portfolioPath, alphas, null);
        return (result, source);
    }

    /// <summary>
    /// As <see cref="Run(string, string, IReadOnlyList{double})"/>, and with <paramref name="reverse"/> also the reverse
    /// stress test over the file's scenarios (equal lengths needed): those losing at least the threshold, ranked by
    /// closeness to the history's windows.
    /// </summary>
    public static (StressResult Result, ScenarioSource Source, ReverseStressResult? Reverse) Run(string scenariosPath, string portfolioPath,
        IReadOnlyList<double> alphas, ReverseOptions? reverse)
    {
        var portfolio = Portfolio.Load(portfolioPath);
        var scenarios = SeriesSetCsv.Read(scenariosPath);
        var result = Stress(scenarios, scenariosPath, portfolio, alphas);
        ReverseStressResult? reverseResult = null;
        if (reverse is not null)
        {
            if (reverse.Model is not null)
            {
                reverseResult = RunModel(reverse, portfolio);
            }
            else
            {
                var withIds = scenarios.ScenarioIds is null ? scenarios with { ScenarioIds = [.. Enumerable.Range(1, scenarios.RowCount)] } : scenarios;
                ScenarioWindows windows;
                try
                {
                    windows = ScenarioWindows.FromSeriesSet(withIds);
                }
                catch (InvalidInputException e) when (e.Location is null)
                {
                    // scenarios of different lengths: the file's fault, named (the library's error names no file)
                    throw new InvalidInputException(e.Rule, e.Message, new InputLocation(scenariosPath, 0, 0));
                }

                var request = new ReverseStressRequest
                {
                    Portfolio = portfolio, LossThreshold = reverse.LossThreshold, Horizon = windows.Window, Candidates = windows.Count, Top = reverse.Top,
                };
                // the windows are the file's scenarios in order of first appearance: the report names each by its id in the file
                reverseResult = ReverseStress.Evaluate(windows, request, Plausibility(reverse.History, [.. windows.Columns], reverse.HistoryFile), Path.GetFileName(scenariosPath), "scenario-file")
                    with { ScenarioIds = [.. withIds.ScenarioIds!.Distinct()] };
            }
        }

        using var stream = File.OpenRead(scenariosPath);
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return (result, new ScenarioSource(scenariosPath, sha), reverseResult);
    }

    /// <summary>
    /// <see cref="StressAnalysis.Run"/> of the scenarios read from <paramref name="path"/>: a scenario that wipes the
    /// portfolio out (rule <c>wiped-out</c>, which names the scenario and step) names that file too, and so does a
    /// portfolio series or group series the file lacks (rule <c>unknown-series</c>, located at the portfolio's holding or
    /// group: which of an ensemble's files lacks it).
    /// </summary>
    internal static StressResult Stress(SeriesSet scenarios, string path, Portfolio portfolio, IReadOnlyList<double> alphas)
    {
        try
        {
            return StressAnalysis.Run(scenarios, portfolio, alphas);
        }
        catch (InvalidInputException e) when (e.Rule == "wiped-out" && e.Location is null)
        {
            throw new InvalidInputException(e.Rule, e.Message, new InputLocation(path, 0, 0));
        }
        catch (InvalidInputException e) when (e.Rule == "unknown-series")
        {
            throw new InvalidInputException(e.Rule, $"{e.Message}; scenario file: {path}", e.Location);
        }
    }

    /// <summary>
    /// The plausibility reference: <paramref name="history"/>'s <paramref name="columns"/>. A problem with the history (a
    /// series it lacks, a constant one, too few rows) names <paramref name="file"/> when given, the file it was read from.
    /// </summary>
    private static NearestWindowPlausibility Plausibility(TimeSeriesFrame history, string[] columns, string? file)
    {
        try
        {
            return new NearestWindowPlausibility(history.SelectColumns(columns), file);
        }
        catch (InvalidInputException e) when (e.Location is null && file is not null)
        {
            throw new InvalidInputException(e.Rule, "the history: " + e.Message, new InputLocation(file, 0, 0));
        }
    }

    /// <summary>
    /// Adversarial scenarios (<see cref="AdversarialScenarios"/>) from the sequence model in <paramref name="modelFolder"/>
    /// over its window: the worst losses of <paramref name="portfolio"/> among scenarios at least as plausible (distance to
    /// <paramref name="history"/>'s windows) as 95% of the model's ordinary draws; drawn under <paramref name="sampleRequest"/>'s
    /// conditions and classifier-free guidance weight (null: unconditional, the model's default weight).
    /// </summary>
    public static AdversarialResult RunAdversarial(string modelFolder, TimeSeriesFrame history, Portfolio portfolio, int candidatesPerRung, int top, double guidanceScale, ulong seed,
        string? historyFile = null, SequenceSampleRequest? sampleRequest = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(portfolio);
        var model = SequenceGenerator.Load(modelFolder);
        CheckRequest(model, sampleRequest, modelFolder);
        RefuseMovesUnderGuidance(model, sampleRequest, "--adversarial fills that slot with guidance toward larger losses", Conditions);
        RefuseStateScaledGuidance(model, sampleRequest, modelFolder, "--adversarial always guides toward larger losses");
        var request = new AdversarialRequest
        {
            Portfolio = portfolio, Horizon = model.Window, CandidatesPerRung = candidatesPerRung, Top = top, GuidanceScale = guidanceScale, Seed = seed,
        };
        var result = AdversarialScenarios.Run(new FittedSequenceDiffusion(model, sampleRequest), request, Plausibility(history, [.. model.Columns], historyFile));
        return result with { Conditioning = ConditioningOf(model, sampleRequest) };
    }

    // the request against the model before any sampling (SequenceGenerator.CheckRequest): a condition name it lacks (or
    // any name, for an unconditional model), a value out of range, guidance for an unconditional model, a stress
    // specification that does not resolve or whose moves need a level it leaves unset: an input error naming the model's
    // manifest (or the specification) and the rule, as generate refuses it; --guidance on a conditional model with no
    // condition named is located at --guidance (the model is not at fault)
    private static void CheckRequest(SequenceGenerator model, SequenceSampleRequest? request, string folder)
    {
        if (request is null) return;
        try
        {
            model.CheckRequest(request);
        }
        catch (InvalidInputException e) when (e.Rule == SequenceGenerator.GuidanceWithoutConditionsRule && e.Location is null && model.ConditionSpace.Names.Count > 0)
        {
            throw new InvalidInputException(e.Rule, $"{e.Message} (--condition NAME=VALUE or --stress SPEC names one; or drop --guidance)", new InputLocation("--guidance", 0, 0));
        }
        catch (InvalidInputException e) when (e.Location is null)
        {
            throw new InvalidInputException(e.Rule, e.Message, new InputLocation(Path.Combine(folder, "manifest.json"), 0, 0));
        }
    }

    // the conditions (under the model's names, sorted, the stress specification's included), the weight w in effect (for
    // a model with condition inputs) and the specification, as generate's metadata records them; null when the request
    // sets none of them, so the reports of unconditioned runs stay as they were
    private static ModelConditions? ConditioningOf(SequenceGenerator model, SequenceSampleRequest? request)
    {
        if (request is null || (request.Conditions is not { Count: > 0 } && request.GuidanceScale is null && request.Stress is null)) return null;
        return new ModelConditions(model.RequestedConditions(request), model.ConditionSpace.Names.Count == 0 ? null : model.GuidanceOf(request), request.Stress);
    }

    // what a specification whose moves cannot be used can be reduced to
    private const string Conditions = "keep only the specification's conditions (archetypes, FEATURE=VALUE terms)";

    // a stress specification's moves are constraints that constraint guidance enforces in the sampler's guidance slot,
    // which guided sampling toward the loss fills: the two cannot be combined (the library refuses it as guidance-conflict
    // when sampling; here before any work, saying what to do instead)
    private static void RefuseMovesUnderGuidance(SequenceGenerator model, SequenceSampleRequest? request, string why, string instead)
    {
        if (request?.Stress is not { } spec) return;
        var plan = model.PlanStress(spec);
        if (plan.Constraints.Count == 0) return;
        throw new InvalidInputException("guidance-conflict", string.Create(CultureInfo.InvariantCulture,
                $"the stress specification '{spec}' has moves on the returns ({plan.Constraints.Count} constraints), which constraint guidance enforces in the sampler's guidance slot, ")
            + $"but {why}: {instead}",
            new InputLocation("--stress", 0, 0));
    }

    // a state-scaled model whose request leaves its level unset draws one level (one s) per window, and guidance on the
    // returns has no single map from model space: the library's rule (SequenceGenerator.AffineFor), checked before any
    // sampling and located at the model's manifest
    private static void RefuseStateScaledGuidance(SequenceGenerator model, SequenceSampleRequest? request, string folder, string why)
    {
        try
        {
            model.AffineFor(request ?? new SequenceSampleRequest());
        }
        catch (InvalidInputException e) when (e.Rule == SequenceGenerator.StateScaleRule && e.Location is null)
        {
            var feature = model.Manifest.StateScale!.Feature;
            throw new InvalidInputException(e.Rule,
                $"{e.Message} (state_scale; --condition {feature}=VALUE sets it): without it each window draws its own scale; {why}, which needs one",
                new InputLocation(Path.Combine(folder, "manifest.json"), 0, 0));
        }
    }

    /// <summary>
    /// The reverse stress test with candidates from the sequence model in <see cref="ReverseOptions.Model"/>: over its
    /// window, guided toward the loss when the guidance scale is positive (rejection otherwise), plausibility against the
    /// history's windows of its series.
    /// </summary>
    public static ReverseStressResult RunModel(ReverseOptions reverse, Portfolio portfolio)
    {
        ArgumentNullException.ThrowIfNull(reverse);
        ArgumentNullException.ThrowIfNull(portfolio);
        if (reverse.Model is null) throw new ArgumentException("no model folder", nameof(reverse));
        if (reverse.Candidates < 1) throw new InvalidInputException("candidates", "at least one candidate is needed");
        if (!(reverse.GuidanceScale >= 0) || !double.IsFinite(reverse.GuidanceScale))
            throw new InvalidInputException("guidance", string.Create(CultureInfo.InvariantCulture, $"the guidance scale {reverse.GuidanceScale} must be finite and ≥ 0"));
        var model = SequenceGenerator.Load(reverse.Model);
        CheckRequest(model, reverse.Request, reverse.Model);
        if (reverse.GuidanceScale > 0)
        {
            RefuseMovesUnderGuidance(model, reverse.Request,
                "--reverse with --guidance-scale > 0 fills that slot with guidance toward the loss",
                "give --guidance-scale 0 (candidates drawn under the moves, then filtered by the loss), or " + Conditions);
            RefuseStateScaledGuidance(model, reverse.Request, reverse.Model, "--reverse with --guidance-scale > 0 guides toward the loss (--guidance-scale 0 samples without guidance, a drawn level per window)");
        }
        var fitted = new FittedSequenceDiffusion(model, reverse.Request);
        var conditioning = ConditioningOf(model, reverse.Request);
        var request = new ReverseStressRequest
        {
            Portfolio = portfolio, LossThreshold = reverse.LossThreshold, Horizon = model.Window, Candidates = reverse.Candidates, Top = reverse.Top,
            GuidanceScale = reverse.GuidanceScale, Seed = reverse.Seed,
        };
        var plausibility = Plausibility(reverse.History, [.. model.Columns], reverse.HistoryFile);
        if (reverse.MinBreachRate is not { } declared) return ReverseStress.Run(fitted, request, plausibility) with { Conditioning = conditioning };
        if (!(declared is > 0 and <= 1)) throw new InvalidInputException("min-breach-rate", string.Create(CultureInfo.InvariantCulture, $"the declared breach rate {declared} must lie in (0, 1]"));
        if (!(reverse.GuidanceScale > 0)) throw new InvalidInputException("min-breach-rate", "recalibration adjusts the guidance scale: it needs a positive --guidance-scale");
        return Recalibration.Run(fitted, request, plausibility, declared).Result with { Conditioning = conditioning };
    }
}
