using System.Globalization;
using Crucible.Diffusion.Samplers;

namespace Crucible.Stress.Reverse;

/// <summary>How hard <see cref="ObjectiveGuidance"/> pushes x̂_0 toward the target.</summary>
/// <param name="Scale">λ ≥ 0, the guidance scale: the weight at a step is w_t = min(1, λ · ᾱ_t^p); 0 disables guidance,
/// λ ≥ 1 takes the full step at the last sampler steps.</param>
/// <param name="Iterations">m ≥ 1, the most steps per sampler step and window (they stop once the target is met).</param>
/// <param name="Power">p ≥ 0 of the weight schedule (as <c>ConstraintGuidanceOptions.Power</c>).</param>
/// <param name="Margin">μ ≥ 0 in objective units: guidance aims at f ≥ target + μ, so windows land past the threshold
/// rather than on it (float rounding of the returned samples cannot undo a breach).</param>
public sealed record ObjectiveGuidanceOptions(double Scale = 1.0, int Iterations = 8, double Power = 0.5, double Margin = 0.005)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a value is outside its documented range.</summary>
    public void Validate()
    {
        if (!(Scale >= 0) || !double.IsFinite(Scale)) throw new ArgumentOutOfRangeException(nameof(Scale), string.Create(CultureInfo.InvariantCulture, $"guidance scale {Scale} must be finite and ≥ 0"));
        if (Iterations < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), "at least one iteration");
        if (!(Power >= 0) || !double.IsFinite(Power)) throw new ArgumentOutOfRangeException(nameof(Power), string.Create(CultureInfo.InvariantCulture, $"power {Power} must be finite and ≥ 0"));
        if (!(Margin >= 0) || !double.IsFinite(Margin)) throw new ArgumentOutOfRangeException(nameof(Margin), string.Create(CultureInfo.InvariantCulture, $"margin {Margin} must be finite and ≥ 0"));
    }
}

/// <summary>
/// Guided reverse stress: at every sampler step, moves each window's estimate x̂_0 toward objective ≥ target (e.g. a
/// portfolio's log loss ≥ −ln(1 − threshold)) with steps on the soft hinge penalty P = max(0, τ + μ − f(r))²; the sampler
/// then recomputes ε̂ from the guided x̂_0 (<see cref="ISampleGuidance"/>), so the model denoises a trajectory that is
/// pulled into the breach region and the other days and series respond through its learnt dependence.
/// </summary>
/// <remarks>
/// <para>
/// <b>Spaces.</b> The model's window is x (D × W, series i, day t at i·W + t); log returns are r_{t,i} = offset_i +
/// scale_i · x_{i,t} (the generator's SeriesAffine map). The objective f is evaluated on the first H ≤ W days, r as H × D
/// row-major, and its gradient is carried to model space by the chain rule: ∂f/∂x_{i,t} = scale_i · ∂f/∂r_{t,i} (zero
/// for days past H).
/// </para>
/// <para>
/// <b>Step rule.</b> For each window, at most m times: e = τ + μ − f(r); stop if e ≤ 10⁻¹² (or f is not finite);
/// g = ∇_x f; x ← x + w_t · e · M g / (gᵀ M g), where the metric M is a D × D symmetric positive-definite matrix applied
/// to each day's D-vector: (M g)_{·,t} = M g_{·,t} and gᵀ M g = Σ_t g_{·,t}ᵀ M g_{·,t}. With w_t = 1 this is the
/// Gauss–Newton step on P: the smallest change in the Mahalanobis norm Σ_t Δ_tᵀ M⁻¹ Δ_t that puts the linearised objective
/// exactly on τ + μ (the projection onto the linearised half-space {f ≥ τ + μ}). With M the model's covariance of a day
/// across series (what <c>FittedSequenceDiffusion</c> uses) this is the most likely shift under a Gaussian with that
/// covariance: a volatile series moves more than a quiet one, and a negatively correlated hedge (a bond when equities fall)
/// moves the way the model says it does rather than straight along −∇f. A diagonal M = diag(σ_i²) ignores the
/// correlations. Iterating corrects the curvature of f (the portfolio loss is close to linear in r over a 20-day window).
/// Each iteration projects from where it is, not from the start, so on a curved f the steps stop on the surface near,
/// not exactly at, the most likely point: for one day of three series under N(0, M) and the exact portfolio log loss at a
/// 3 % threshold, from x = 0 they land 0.007 σ from the constrained maximum of the density (scipy SLSQP; Stress.Tests
/// References); for a linear f the first step is exactly −ℓ M w / (wᵀ M w).
/// The gradient of P is −2e∇f, so each step is along −M∇P.
/// </para>
/// <para>
/// <b>Weight schedule.</b> w_t = min(1, λ ᾱ_t^p) (<see cref="ObjectiveGuidanceOptions"/>): weak while x̂_0 is a blurred guess,
/// full at the last steps, whose guided x̂_0 is the returned sample; with λ ≥ 1 and m large enough every returned window
/// breaches up to float rounding, which μ covers. A smaller λ leaves part of the way to the model and yields fewer breaches.
/// </para>
/// <para>
/// <b>Method.</b> Backward universal guidance (Bansal et al. 2023, §3.2) with a hinge penalty, as <c>ConstraintGuidance</c>
/// does for linear constraints; it never differentiates through the network. Thread-safe and deterministic: each call
/// works on its own buffers, window by window.
/// </para>
/// </remarks>
public sealed class ObjectiveGuidance : ISampleGuidance
{
    private readonly IScenarioObjective _objective;
    private readonly int _series, _window, _horizon;
    private readonly double _target;
    private readonly double[] _offset, _scale, _metric;

    /// <summary>
    /// Guidance toward <paramref name="objective"/> ≥ <paramref name="target"/> over the first <paramref name="horizon"/> days of
    /// windows of <paramref name="series"/> × <paramref name="window"/> in model space, with the metric <paramref name="metric"/>:
    /// D values (a diagonal, each positive) or D × D row-major (symmetric positive definite).
    /// </summary>
    /// <exception cref="ArgumentException">Sizes that do not match, a non-finite value, or a metric that is not positive definite.</exception>
    public ObjectiveGuidance(IScenarioObjective objective, int series, int window, int horizon, double target,
        IReadOnlyList<double> offset, IReadOnlyList<double> scale, IReadOnlyList<double> metric, ObjectiveGuidanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(horizon, window);
        if (!double.IsFinite(target)) throw new ArgumentOutOfRangeException(nameof(target), "the target must be finite");
        if (offset.Count != series || scale.Count != series) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"offset and scale need {series} values"));
        for (int i = 0; i < series; i++)
        {
            if (!double.IsFinite(offset[i]) || !(scale[i] > 0) || !double.IsFinite(scale[i]))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"series {i}: offset must be finite, scale positive and finite"));
        }

        _metric = new double[series * series];
        if (metric.Count == series)
        {
            for (int i = 0; i < series; i++) _metric[(i * series) + i] = metric[i];
        }
        else if (metric.Count == series * series)
        {
            for (int k = 0; k < _metric.Length; k++) _metric[k] = metric[k];
        }
        else
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the metric needs {series} (diagonal) or {series * series} values, got {metric.Count}"), nameof(metric));
        }

        if (!IsPositiveDefinite(_metric, series)) throw new ArgumentException("the metric must be symmetric positive definite with finite entries", nameof(metric));

        Options = options ?? new ObjectiveGuidanceOptions();
        Options.Validate();
        (_objective, _series, _window, _horizon, _target) = (objective, series, window, horizon, target);
        _offset = [.. offset];
        _scale = [.. scale];
    }

    /// <summary>The step settings.</summary>
    public ObjectiveGuidanceOptions Options { get; }

    /// <summary>The target τ (objective units).</summary>
    public double Target => _target;

    /// <summary>The weight w_t = min(1, λ ᾱ_t^p) at a step whose cumulative signal fraction is <paramref name="alphaBar"/>.</summary>
    public double WeightAt(double alphaBar) => Math.Min(1.0, Options.Scale * Math.Pow(Math.Clamp(alphaBar, 0.0, 1.0), Options.Power));

    /// <inheritdoc/>
    public void Guide(Span<float> x0, int count, int step, double alphaBar)
    {
        int size = _series * _window;
        if (x0.Length != (long)count * size) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{x0.Length} values for {count} windows of {_series} × {_window}"), nameof(x0));
        double weight = WeightAt(alphaBar);
        if (weight == 0) return;
        var x = new double[size];
        var work = new Workspace(_horizon * _series);
        for (int b = 0; b < count; b++)
        {
            var window = x0.Slice(b * size, size);
            for (int j = 0; j < size; j++) x[j] = window[j];
            if (!Ascend(x, weight, work)) continue;
            for (int j = 0; j < size; j++) window[j] = (float)x[j];
        }
    }

    /// <summary>The objective at a model-space window (D × W values): f of its first H days of log returns.</summary>
    public double ObjectiveAt(ReadOnlySpan<double> x)
    {
        if (x.Length != _series * _window) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a window has {_series * _window} values"), nameof(x));
        var work = new Workspace(_horizon * _series);
        ToReturns(x, work.Returns);
        return _objective.Evaluate(work.Returns, _series, work.ReturnGradient);
    }

    /// <summary>
    /// The m steps of the step rule on one model-space window (D × W values, in place) with weight
    /// <paramref name="weight"/> ∈ [0, 1]; returns whether the window moved.
    /// </summary>
    public bool Ascend(Span<double> x, double weight)
    {
        if (x.Length != _series * _window) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"a window has {_series * _window} values"), nameof(x));
        if (!(weight >= 0 && weight <= 1)) throw new ArgumentOutOfRangeException(nameof(weight), "weight must be in [0, 1]");
        return Ascend(x, weight, new Workspace(_horizon * _series));
    }

    private bool Ascend(Span<double> x, double weight, Workspace work)
    {
        bool moved = false;
        var (r, gr) = (work.Returns, work.ReturnGradient);
        for (int iteration = 0; iteration < Options.Iterations; iteration++)
        {
            ToReturns(x, r);
            double f = _objective.Evaluate(r, _series, gr);
            double excess = _target + Options.Margin - f;
            if (!double.IsFinite(f) || excess <= 1e-12) break;   // met (to rounding)

            // g_x = scale_i ∂f/∂r (day t's D-vector); Mg per day; gᵀMg
            var (g, mg) = (work.Gradient, work.Direction);
            for (int k = 0; k < g.Length; k++) g[k] = _scale[k % _series] * gr[k];
            double norm = 0;
            for (int t = 0; t < _horizon; t++)
            {
                for (int i = 0; i < _series; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < _series; j++) sum += _metric[(i * _series) + j] * g[(t * _series) + j];
                    mg[(t * _series) + i] = sum;
                    norm += g[(t * _series) + i] * sum;
                }
            }

            if (!(norm > 0) || !double.IsFinite(norm)) break;
            double eta = weight * excess / norm;
            for (int t = 0; t < _horizon; t++)
            {
                for (int i = 0; i < _series; i++) x[(i * _window) + t] += eta * mg[(t * _series) + i];
            }

            moved = true;
        }

        return moved;
    }

    private void ToReturns(ReadOnlySpan<double> x, Span<double> r)
    {
        for (int t = 0; t < _horizon; t++)
        {
            for (int i = 0; i < _series; i++) r[(t * _series) + i] = _offset[i] + (_scale[i] * x[(i * _window) + t]);
        }
    }

    private sealed class Workspace(int size)
    {
        public double[] Returns { get; } = new double[size];

        public double[] ReturnGradient { get; } = new double[size];

        public double[] Gradient { get; } = new double[size];

        public double[] Direction { get; } = new double[size];
    }

    // symmetric with finite entries and a Cholesky factorisation with positive pivots
    private static bool IsPositiveDefinite(double[] m, int n)
    {
        foreach (double v in m)
        {
            if (!double.IsFinite(v)) return false;
        }

        var l = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                if (m[(i * n) + j] != m[(j * n) + i]) return false;
                double sum = m[(i * n) + j];
                for (int k = 0; k < j; k++) sum -= l[(i * n) + k] * l[(j * n) + k];
                if (i == j)
                {
                    if (!(sum > 0)) return false;
                    l[(i * n) + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[(i * n) + j] = sum / l[(j * n) + j];
                }
            }
        }

        return true;
    }
}
