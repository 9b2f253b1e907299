using Crucible.Data;
using Crucible.Stress.Generators;

namespace Crucible.Stress.Reverse;

/// <summary>One attempt of <see cref="Recalibration.Run"/>.</summary>
/// <param name="GuidanceScale">The guidance scale λ tried.</param>
/// <param name="BreachRate">The share of candidates that breach.</param>
/// <param name="MedianPlausibility">The median plausibility of the reported (most plausible) breaching scenarios; NaN when none breach.</param>
/// <param name="Passed">Whether the breach rate met the declared minimum.</param>
public sealed record CalibrationAttempt(double GuidanceScale, double BreachRate, double MedianPlausibility, bool Passed);

/// <summary>The outcome of a recalibrated reverse stress test: every attempt in order and the last result.</summary>
public sealed record CalibratedReverseStress(IReadOnlyList<CalibrationAttempt> Attempts, ReverseStressResult Result)
{
    /// <summary>Whether the last attempt met the declared threshold.</summary>
    public bool Passed => Attempts[^1].Passed;
}

/// <summary>
/// The recalibration loop of issue #8 for guided reverse stress: run at the request's guidance scale; when the breach rate
/// misses the declared minimum, multiply the scale by <c>factor</c> and run again with the same seed, up to
/// <c>maxAttempts</c> runs, recording every attempt (scale, breach rate, plausibility, verdict). Larger scales put more
/// candidates past the threshold at some cost in plausibility, which the attempts make visible.
/// </summary>
public static class Recalibration
{
    /// <summary>Runs the loop; the request's <see cref="ReverseStressRequest.GuidanceScale"/> must be positive.</summary>
    public static CalibratedReverseStress Run(IGuidedScenarioGenerator generator, ReverseStressRequest request, IPlausibilityScore plausibility,
        double minBreachRate = 0.9, double factor = 2.0, int maxAttempts = 3)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(request);
        if (!(request.GuidanceScale > 0)) throw new InvalidInputException("guidance", "recalibration needs a positive starting guidance scale");
        if (!(minBreachRate is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(minBreachRate), "the declared breach rate is in (0, 1]");
        if (!(factor > 1) || !double.IsFinite(factor)) throw new ArgumentOutOfRangeException(nameof(factor), "the factor must be finite and > 1");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        var attempts = new List<CalibrationAttempt>();
        var scale = request.GuidanceScale;
        ReverseStressResult result;
        while (true)
        {
            result = ReverseStress.Run(generator, request with { GuidanceScale = scale }, plausibility);
            var median = Evaluation.Statistics.Descriptive.Percentile([.. result.Top.Select(s => s.Plausibility)], 50); // NaN when none breach
            var passed = result.BreachRate >= minBreachRate;
            attempts.Add(new CalibrationAttempt(scale, result.BreachRate, median, passed));
            if (passed || attempts.Count == maxAttempts) break;
            scale *= factor;
        }

        return new CalibratedReverseStress(attempts, result with { Calibration = attempts });
    }
}
