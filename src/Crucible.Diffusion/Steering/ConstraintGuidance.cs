using System.Globalization;
using Crucible.Diffusion.Samplers;

namespace Crucible.Diffusion.Steering;

/// <summary>How hard <see cref="ConstraintGuidance"/> pulls x̂_0 toward the constraints.</summary>
/// <param name="Weight">
/// w ∈ [0, 1], the fraction of the line-search step taken at ᾱ = 1 (see <see cref="ConstraintGuidance"/>): 1 removes an
/// isolated violation in one iteration, 0 disables guidance.
/// </param>
/// <param name="Iterations">
/// m ≥ 1, the most gradient steps on the penalty per sampler step and window (they stop early once the window is
/// feasible). Coupled constraints (a cumulative bound with per-step and cross-sectional ones) need several.
/// </param>
/// <param name="Power">
/// p ≥ 0 of the weight schedule w_t = w · ᾱ_t^p: 0 guides equally at every step; larger p leaves the early, noisy
/// steps to the model and guides mostly as the noise falls (ᾱ_t → 1).
/// </param>
/// <param name="Margin">
/// μ ≥ 0, in log-return units: guidance aims at a_k·r ≤ b_k − μ, so guided windows land inside the constraints rather
/// than on their boundary.
/// </param>
public sealed record ConstraintGuidanceOptions(double Weight = 1.0, int Iterations = 16, double Power = 0.5, double Margin = 0.0)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a value is outside its documented range.</summary>
    public void Validate()
    {
        if (!(Weight >= 0 && Weight <= 1)) throw new ArgumentOutOfRangeException(nameof(Weight), string.Create(CultureInfo.InvariantCulture, $"weight {Weight} is not in [0, 1]"));
        if (Iterations < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), "at least one iteration");
        if (!(Power >= 0) || !double.IsFinite(Power)) throw new ArgumentOutOfRangeException(nameof(Power), $"power {Power} must be finite and ≥ 0");
        if (!(Margin >= 0) || !double.IsFinite(Margin)) throw new ArgumentOutOfRangeException(nameof(Margin), $"margin {Margin} must be finite and ≥ 0");
    }
}

/// <summary>
/// Soft linear constraints during reverse diffusion: at every sampler step, gradient steps on the penalty
/// P(r) = Σ_k max(0, a_k·r − b_k)² of a <see cref="LinearConstraintSet"/> move the estimate x̂_0 of each window toward
/// the constraints; the sampler then recomputes ε̂ from the guided x̂_0 (see <see cref="ISampleGuidance"/>).
/// </summary>
/// <remarks>
/// <para>
/// <b>Spaces.</b> The model works in its own space x; log returns are r = offset_i + scale_i · x for series i (the
/// generator's SeriesAffine map; identity when the model works in raw log returns). Each constraint a·r ≤ b becomes
/// ã·x ≤ β in model space with ã_j = a_j · scale_i(j) and β = b − μ − a·offset, so the steps below are taken on x
/// directly and mapping back is implicit.
/// </para>
/// <para>
/// <b>Step rule.</b> For each window, at most m times: s_k = ã_k·x − β_k; stop if no s_k is positive;
/// g = ∇_x P = 2 Σ_{s_k&gt;0} s_k ã_k; η* = argmin_{η≥0} Σ_k max(0, s_k − η c_k)² with c_k = ã_k·g (an exact line search
/// on the convex piecewise-quadratic P along −g: steepest descent with exact steps); x ← x − w_t η* g. By convexity
/// P never increases for w_t ∈ [0, 1]. For a single violated constraint one step with w_t = 1 is the Euclidean
/// projection onto its half-space, and an isolated violation shrinks by (1 − w_t)^m per sampler step.
/// </para>
/// <para>
/// <b>Weight schedule.</b> w_t = w · ᾱ_t^p (<see cref="ConstraintGuidanceOptions"/>): with the default p = ½ the pull is
/// weak while x̂_0 is a blurred guess (ᾱ_t ≈ 0) and full at the last steps, where the sampler returns the guided x̂_0 of
/// its final step. Because the constraint is imposed on every step's x̂_0 and the model denoises the guided
/// trajectory, series that are not constrained respond through the model's learnt dependence (a forced equity fall
/// drags correlated credit down), instead of only the constrained coordinates moving.
/// </para>
/// <para>
/// <b>Method.</b> This is the backward guidance of Bansal et al. 2023, "Universal Guidance for Diffusion Models"
/// (§3.2: an optimised change of x̂_0, with ε̂ recomputed from it), with a quadratic-hinge penalty on the posterior
/// mean, in the spirit of the penalised projection of Narasimhan et al. 2024, "Constrained Posterior Sampling: Time
/// Series Generation with Hard Constraints" (arXiv:2410.12652), whose penalty also grows as the noise falls. Unlike
/// DPS (Chung et al. 2023) it never differentiates through the network, so it works with any
/// <see cref="IDenoiser"/> and costs no extra network call. Constraints are soft: a window can end slightly outside when
/// constraints conflict or m is small; measure it with <see cref="LinearConstraintSet.ViolationRate"/>.
/// </para>
/// <para>Thread-safe and deterministic: each call works on its own buffers, window by window, in a fixed order.</para>
/// </remarks>
public sealed class ConstraintGuidance : ISampleGuidance
{
    private readonly Row[] _rows;
    private readonly int _size;

    /// <summary>
    /// Guidance toward <paramref name="constraints"/> (log-return units) for a model whose space maps to log returns by
    /// r = offset_i + scale_i · x per series i (D values each; scales positive).
    /// </summary>
    public ConstraintGuidance(LinearConstraintSet constraints, IReadOnlyList<double> offset, IReadOnlyList<double> scale, ConstraintGuidanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(constraints);
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(scale);
        Options = options ?? new ConstraintGuidanceOptions();
        Options.Validate();
        int d = constraints.Series, w = constraints.Window;
        if (offset.Count != d || scale.Count != d) throw new ArgumentException($"offset and scale need {d} values (one per series), got {offset.Count} and {scale.Count}");
        for (int i = 0; i < d; i++)
        {
            if (!double.IsFinite(offset[i])) throw new ArgumentException($"offset[{i}] is not finite", nameof(offset));
            if (!(scale[i] > 0) || !double.IsFinite(scale[i])) throw new ArgumentException($"scale[{i}] must be positive and finite", nameof(scale));
        }

        Constraints = constraints;
        _size = constraints.Size;
        _rows = new Row[constraints.Count];
        for (int k = 0; k < constraints.Count; k++)
        {
            var q = constraints.Inequalities[k];
            var index = q.Indices.ToArray();
            var a = new double[index.Length];
            double beta = q.Bound - Options.Margin;
            for (int j = 0; j < index.Length; j++)
            {
                int series = index[j] / w;
                a[j] = q.Coefficients[j] * scale[series];
                beta -= q.Coefficients[j] * offset[series];
            }

            _rows[k] = new Row(index, a, beta);
        }
    }

    /// <summary>Guidance for a model that works in raw log returns (offset 0, scale 1).</summary>
    public ConstraintGuidance(LinearConstraintSet constraints, ConstraintGuidanceOptions? options = null)
        : this(constraints, new double[constraints?.Series ?? 0], Enumerable.Repeat(1.0, constraints?.Series ?? 0).ToArray(), options)
    {
    }

    /// <summary>The constraints, in log-return units.</summary>
    public LinearConstraintSet Constraints { get; }

    /// <summary>The step settings.</summary>
    public ConstraintGuidanceOptions Options { get; }

    /// <summary>The weight w_t = w · ᾱ_t^p used at a step whose cumulative signal fraction is <paramref name="alphaBar"/>.</summary>
    public double WeightAt(double alphaBar) => Options.Weight * Math.Pow(Math.Clamp(alphaBar, 0.0, 1.0), Options.Power);

    /// <inheritdoc />
    public void Guide(Span<float> x0, int count, int step, double alphaBar)
    {
        if (x0.Length != (long)count * _size)
            throw new ArgumentException($"{x0.Length} values for {count} windows of {Constraints.Series} × {Constraints.Window}", nameof(x0));
        double weight = WeightAt(alphaBar);
        if (weight == 0 || _rows.Length == 0) return;
        var x = new double[_size];
        var work = new Workspace(_size, _rows.Length);
        for (int b = 0; b < count; b++)
        {
            var window = x0.Slice(b * _size, _size);
            for (int j = 0; j < _size; j++) x[j] = window[j];
            if (!Descend(x, work, weight)) continue;
            for (int j = 0; j < _size; j++) window[j] = (float)x[j];
        }
    }

    /// <summary>
    /// The m steps of the step rule on one window in model space (D · W values, in place) with weight
    /// <paramref name="weight"/> ∈ [0, 1]; returns whether the window moved. The penalty never increases.
    /// </summary>
    public bool Descend(Span<double> x, double weight)
    {
        if (x.Length != _size) throw new ArgumentException($"a window has {_size} values", nameof(x));
        if (!(weight >= 0 && weight <= 1)) throw new ArgumentOutOfRangeException(nameof(weight), "weight must be in [0, 1]");
        return Descend(x, new Workspace(_size, _rows.Length), weight);
    }

    private bool Descend(Span<double> x, Workspace work, double weight)
    {
        bool moved = false;
        var (g, excess, slope) = (work.Gradient, work.Excess, work.Slope);
        for (int iteration = 0; iteration < Options.Iterations; iteration++)
        {
            // s_k = ã_k·x − β_k; g = ∇P = 2 Σ_{s_k > 0} s_k ã_k
            bool active = false;
            Array.Clear(g);
            for (int k = 0; k < _rows.Length; k++)
            {
                excess[k] = _rows[k].Dot(x) - _rows[k].Beta;
                if (excess[k] <= 0) continue;
                _rows[k].AddTo(g, 2.0 * excess[k]);
                active = true;
            }

            if (!active) break;
            for (int k = 0; k < _rows.Length; k++) slope[k] = _rows[k].Dot(g);
            double eta = LineSearch(excess, slope, work);
            if (!(eta > 0)) break;
            eta *= weight;
            for (int j = 0; j < x.Length; j++) x[j] -= eta * g[j];
            moved = true;
        }

        return moved;
    }

    /// <summary>
    /// The exact minimiser η ≥ 0 of the convex, piecewise-quadratic φ(η) = Σ_k max(0, s_k − η c_k)² (P along −g):
    /// φ'(η)/2 = −A + η B with A = Σ c_k s_k and B = Σ c_k² over the terms positive at η; the set changes at the
    /// breakpoints s_k / c_k, visited in increasing order until φ' changes sign (or φ reaches 0, where the smallest
/// minimiser is taken).
    /// </summary>
    private static double LineSearch(double[] s, double[] c, Workspace work)
    {
        double a = 0, b = 0;
        int events = 0;
        for (int k = 0; k < s.Length; k++)
        {
            bool on = s[k] > 0 || (s[k] == 0 && c[k] < 0);
            if (on)
            {
                a += c[k] * s[k];
                b += c[k] * c[k];
            }

            // a positive term with c > 0 vanishes at s/c; a non-positive term with c < 0 appears at s/c
            if ((on && c[k] > 0) || (!on && c[k] < 0))
            {
                work.EventAt[events] = s[k] / c[k];
                work.EventRow[events++] = k;
            }
        }

        Array.Sort(work.EventAt, work.EventRow, 0, events);
        double low = 0;
        for (int e = 0; e <= events; e++)
        {
            // no positive term: φ = 0 on [low, high], and low is its smallest minimiser (going on would overshoot
            // into the region where other constraints start to bind)
            if (!(b > 0)) return low;
            double high = e < events ? work.EventAt[e] : double.PositiveInfinity;
            double root = a / b;
            if (root <= high) return Math.Max(root, low);

            if (e == events) break;
            int k = work.EventRow[e];
            double sign = c[k] > 0 ? -1.0 : 1.0;   // leaving or entering
            a += sign * c[k] * s[k];
            b += sign * c[k] * c[k];
            low = high;
        }

        return low;
    }

    /// <summary>Per-call buffers, so concurrent chunks never share state.</summary>
    private sealed class Workspace(int size, int rows)
    {
        public double[] Gradient { get; } = new double[size];

        public double[] Excess { get; } = new double[rows];

        public double[] Slope { get; } = new double[rows];

        public double[] EventAt { get; } = new double[rows];

        public int[] EventRow { get; } = new int[rows];
    }

    /// <summary>One inequality in model space: ã·x ≤ β over the listed indices.</summary>
    private sealed class Row(int[] index, double[] a, double beta)
    {
        public double Beta { get; } = beta;

        public double Dot(ReadOnlySpan<double> x)
        {
            double s = 0;
            for (int j = 0; j < index.Length; j++) s += a[j] * x[index[j]];
            return s;
        }

        public void AddTo(double[] g, double factor)
        {
            for (int j = 0; j < index.Length; j++) g[index[j]] += factor * a[j];
        }
    }
}
