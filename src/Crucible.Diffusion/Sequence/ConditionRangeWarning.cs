using System.Globalization;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// A requested condition outside the training range of a sequence model (<see cref="ConditionManifest.Min"/> ..
/// <see cref="ConditionManifest.Max"/>): the scenarios drawn under it are an extrapolation the model never saw, which a
/// risk user must be told. Recorded in <c>FILE.meta.json</c> (<c>condition_warnings</c>) and printed by <c>crucible generate</c>.
/// </summary>
/// <param name="Feature">The condition feature, under the model's name.</param>
/// <param name="Value">The requested value (from a condition, a stress specification or an archetype).</param>
/// <param name="Min">The feature's smallest value over the training condition vectors.</param>
/// <param name="Max">The feature's largest value over the training condition vectors.</param>
/// <param name="StandardDeviationsBeyond">How far beyond the nearer end of the range the value lies, in training standard
/// deviations of the feature (<see cref="ConditionManifest.Std"/>): (Value − Max) / σ above, (Min − Value) / σ below; &gt; 0.</param>
public sealed record ConditionRangeWarning(string Feature, double Value, double Min, double Max, double StandardDeviationsBeyond)
{
    /// <summary>The warning in words, e.g. <c>condition VIXCLS = 300 is outside its training range [9.14, 82.7]: 40.1 training sd above the maximum; the scenarios extrapolate</c>.</summary>
    public string Message => string.Create(CultureInfo.InvariantCulture,
        $"condition {Feature} = {Value:G6} is outside its training range [{Min:G6}, {Max:G6}]: {StandardDeviationsBeyond:0.##} training sd {(Value > Max ? "above the maximum" : "below the minimum")}; the scenarios extrapolate beyond what the model was trained on");
}
