namespace Crucible.Diffusion.Privacy;

/// <summary>
/// The (ε, δ) group-privacy bound (Dwork &amp; Roth 2014, §2.3; Vadhan 2017, Lemma 2.2): a mechanism that is (ε, δ)-DP for
/// datasets that differ in one example is (kε, k·e^{(k−1)ε}·δ)-DP for datasets that differ in k examples. Sequence models
/// use it for the unit <see cref="PrivacyUnit.Record"/> (one day): with stride-1 windows of W days a day lies in up to
/// k = W windows, so the accountant runs per window and the day's guarantee is the group bound over k windows (DP-8).
/// </summary>
public static class GroupPrivacy
{
    /// <summary>The guarantee for groups of <paramref name="k"/> examples: (k·ε, k·e^{(k−1)ε}·δ).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k &lt; 1, ε &lt; 0 or δ outside [0, 1].</exception>
    public static (double Epsilon, double Delta) ForGroup(double epsilon, double delta, int k)
    {
        Check(epsilon, delta, k);
        // δ = 0 stays 0 even where e^{(k−1)ε} overflows (∞ · 0 would be NaN)
        return (k * epsilon, delta == 0 ? 0 : k * Math.Exp((k - 1) * epsilon) * delta);
    }

    /// <summary>
    /// The inverse of <see cref="ForGroup"/>: the per-example (ε/k, δ / (k·e^{(k−1)ε/k})) whose group bound over
    /// <paramref name="k"/> examples is exactly (<paramref name="groupEpsilon"/>, <paramref name="groupDelta"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k &lt; 1, ε &lt; 0 or δ outside [0, 1].</exception>
    public static (double Epsilon, double Delta) PerExample(double groupEpsilon, double groupDelta, int k)
    {
        Check(groupEpsilon, groupDelta, k);
        double epsilon = groupEpsilon / k;
        return (epsilon, groupDelta / (k * Math.Exp((k - 1) * epsilon)));
    }

    private static void Check(double epsilon, double delta, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be finite and ≥ 0");
        if (!(delta is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in [0, 1]");
    }
}
