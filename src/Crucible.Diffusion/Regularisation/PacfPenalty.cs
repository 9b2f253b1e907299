using Crucible.Tensors;

namespace Crucible.Diffusion.Regularisation;

/// <summary>
/// The PACF regulariser: the squared gap between the PACF of predicted clean windows and a target PACF (the mean
/// over the training windows), per series and lag 1..K,
/// <code>
/// R = mean_{i,k} ( Σ_b w̃_b φ_kk(x̂_0[b, i, :]) − φ̄_kk,i )²,   w̃_b = w_b / Σ w_b
/// </code>
/// The batch's PACF is a weighted mean over its windows, not one window at a time: one window of 24 steps has a PACF
/// far from the mean PACF, and pulling each window toward the mean would squeeze the spread the model should keep.
/// The trainer weights window b by ᾱ_t of its timestep: an x̂_0 predicted from nearly pure noise is a blurred
/// conditional mean whose PACF says little about the model's samples.
/// </summary>
public sealed class PacfPenalty
{
    private readonly float[] _target;

    /// <summary>A penalty toward <paramref name="target"/> ((series, lags) row-major, e.g. from <see cref="Pacf.MeanOverWindows(ReadOnlySpan{float}, int, int, int, int, AutocovarianceEstimator)"/>).</summary>
    public PacfPenalty(IReadOnlyList<double> target, int series, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased, float epsilon = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lags);
        if (target.Count != series * lags) throw new ArgumentException($"expected {series} × {lags} target values, got {target.Count}", nameof(target));
        _target = [.. target.Select(v => (float)v)];
        Series = series;
        Lags = lags;
        Estimator = estimator;
        Epsilon = epsilon;
    }

    /// <summary>D, the series per window.</summary>
    public int Series { get; }

    /// <summary>K, the lags 1..K.</summary>
    public int Lags { get; }

    /// <summary>The autocovariance the PACF is built on.</summary>
    public AutocovarianceEstimator Estimator { get; }

    /// <summary>The ε added to γ_0 (see <see cref="Pacf.Compute(Tensor, int, AutocovarianceEstimator, float)"/>).</summary>
    public float Epsilon { get; }

    /// <summary>The target φ̄ ((series, lags) row-major).</summary>
    public IReadOnlyList<float> Target => _target;

    /// <summary>The penalty toward the mean PACF of <paramref name="count"/> windows (D, W) in <paramref name="windows"/>.</summary>
    public static PacfPenalty FromWindows(ReadOnlySpan<float> windows, int count, int series, int length, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased, float epsilon = 1e-8f) =>
        new(Pacf.MeanOverWindows(windows, count, series, length, lags, estimator), series, lags, estimator, epsilon);

    /// <summary>The penalty toward the mean PACF of the windows (D, W) of <paramref name="windows"/>, read one at a time.</summary>
    public static PacfPenalty FromWindows(Training.TrainingData windows, int series, int length, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased, float epsilon = 1e-8f) =>
        new(Pacf.MeanOverWindows(windows, series, length, lags, estimator), series, lags, estimator, epsilon);

    /// <summary>R for windows <paramref name="x0"/> (B, D, W), differentiable in x0; <paramref name="weights"/> (B, each ≥ 0, not all 0) weight the windows.</summary>
    // x0: (B, D, W), weights: (B) -> scalar
    public Tensor Evaluate(Tensor x0, ReadOnlySpan<double> weights)
    {
        ArgumentNullException.ThrowIfNull(x0);
        if (x0.Rank != 3 || x0.Shape[1] != Series) throw new ArgumentException($"expected windows (B, {Series}, W), got {Tensor.FormatShape(x0.Shape)}", nameof(x0));
        int b = x0.Shape[0];
        if (weights.Length != b) throw new ArgumentException($"expected {b} weights, got {weights.Length}", nameof(weights));
        double total = 0;
        foreach (double w in weights)
        {
            if (!(w >= 0) || !double.IsFinite(w)) throw new ArgumentException($"weight {w}: weights must be finite and ≥ 0", nameof(weights));
            total += w;
        }

        if (!(total > 0)) throw new ArgumentException("the weights are all 0", nameof(weights));
        var normalised = new float[b];
        for (int i = 0; i < b; i++) normalised[i] = (float)(weights[i] / total);
        var pacf = Pacf.Compute(x0, Lags, Estimator, Epsilon);                           // (B, D, K)
        var batch = (pacf * new Tensor(normalised, [b, 1, 1])).Sum(0);                  // (D, K)
        var gap = batch - new Tensor((float[])_target.Clone(), [Series, Lags]);
        return (gap * gap).Mean();
    }
}
