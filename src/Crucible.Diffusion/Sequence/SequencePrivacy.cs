using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// How DP-SGD is set up for a sequence model (RELIABILITY.md DP-8): each stride-1 window is one example of the engine,
/// and the guarantee is stated for the declared unit. For <see cref="PrivacyUnit.Window"/>, k = 1 and the accountant's
/// (ε, δ) is the window's. For <see cref="PrivacyUnit.Record"/> (a day) the day lies in up to k = min(W, windows)
/// windows: the declared day-level (ε, δ) become the per-window target (ε/k, δ/(k·e^{(k−1)ε/k}))
/// (<see cref="GroupPrivacy.PerExample"/>), σ is calibrated for it (or checked against the budget ε_max/k when σ is
/// given, with δ per window derived from ε_max), and the reported day-level ε is k·ε_window with the declared δ, which
/// bounds the group δ k·e^{(k−1)ε_window}·δ_window because ε_window never exceeds the per-window ε it was derived from.
/// </summary>
/// <param name="Unit">The declared unit.</param>
/// <param name="GroupSize">k.</param>
/// <param name="Windows">The examples (windows).</param>
/// <param name="Days">The train days (rows of returns).</param>
/// <param name="Delta">The declared δ of the unit.</param>
/// <param name="Engine">The engine's options, per window.</param>
public sealed record SequencePrivacyPlan(PrivacyUnit Unit, int GroupSize, int Windows, int Days, double Delta, DpSgdOptions Engine)
{
    /// <summary>The plan for <paramref name="windows"/> windows of <paramref name="window"/> days cut from <paramref name="days"/> days.</summary>
    /// <exception cref="InvalidInputException">Rule <c>DP-E-CONFIG</c>: the unit is entity; <c>DP-E-BUDGET</c>: δ ≥ 1/N for the unit's N (located at <c>privacy.delta</c>).</exception>
    public static SequencePrivacyPlan Create(DpTrainingOptions dp, int window, int days, int windows, int batchSize, long steps)
    {
        ArgumentNullException.ThrowIfNull(dp);
        var unit = dp.Unit ?? PrivacyUnit.Record;
        if (unit == PrivacyUnit.Entity)
            throw new InvalidInputException("DP-E-CONFIG", "privacy.unit entity is not available for sequence models: the data has no entity column; use record or window");
        int k = unit == PrivacyUnit.Record ? Math.Min(window, windows) : 1;
        int units = unit == PrivacyUnit.Record ? days : windows;
        if (dp.Delta >= 1.0 / units)
            throw new InvalidInputException("DP-E-BUDGET", string.Create(CultureInfo.InvariantCulture,
                $"delta {dp.Delta:G3} is not below 1/N = {1.0 / units:G3} ({units} {(unit == PrivacyUnit.Record ? "days" : "windows")})"), DpTrainingOptions.Setting("delta"));
        var engine = dp.ToEngineOptions(windows, batchSize, steps) with { Unit = PrivacyUnit.Window };
        if (k > 1)
        {
            // δ per window from the ε the window can reach at most: the target, or else the budget
            double reference = dp.TargetEpsilon ?? dp.EpsilonBudget;
            var (_, windowDelta) = GroupPrivacy.PerExample(reference, dp.Delta, k);
            engine = engine with
            {
                Delta = windowDelta,
                TargetEpsilon = dp.TargetEpsilon is { } target ? target / k : null,
                EpsilonBudget = dp.EpsilonBudget / k,
            };
        }

        return new SequencePrivacyPlan(unit, k, windows, days, dp.Delta, engine);
    }

    /// <summary>The engine for the plan (its budget message names the group when k &gt; 1).</summary>
    /// <exception cref="InvalidInputException">The engine refuses the configuration (<see cref="PrivacyEngine.Create"/>).</exception>
    public PrivacyEngine CreateEngine(Tensors.Random.Philox noise)
    {
        try
        {
            return PrivacyEngine.Create(Engine, Windows, noise);
        }
        catch (InvalidInputException e) when (GroupSize > 1)
        {
            throw new InvalidInputException(e.Rule, string.Create(CultureInfo.InvariantCulture,
                $"per window, for unit record (a day in up to k = {GroupSize} windows: the day's epsilon is {GroupSize} × the window's, the budget per window {Engine.EpsilonBudget:G6}): {e.Message}"), e.Location);
        }
    }

    /// <summary>The statement for the declared unit: the engine's per-window statement, or its group bound over k windows.</summary>
    public DpStatement Statement(PrivacyEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var perWindow = engine.Statement();
        return GroupSize > 1 || Unit == PrivacyUnit.Record ? DpStatement.ForGroup(perWindow, GroupSize, Delta, Unit, Days) : perWindow;
    }
}
