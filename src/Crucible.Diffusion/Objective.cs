namespace Crucible.Diffusion;

/// <summary>What the denoiser network predicts.</summary>
public enum Objective
{
    /// <summary>The noise ε (Ho et al. 2020), the seed pipeline's objective.</summary>
    Epsilon,

    /// <summary>The clean sample x_0.</summary>
    X0,

    /// <summary>The velocity v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans &amp; Ho 2022).</summary>
    V,
}

/// <summary>
/// Conversions between ε, x_0 and v predictions at one timestep (all elementwise). The overloads with a noise scale σ
/// serve the volatility-adaptive process x_t = √ᾱ x_0 + √(1−ᾱ) σ ε (see
/// <see cref="Schedules.VolatilityAdaptiveSchedule"/>), where v lives in the whitened space: v = √ᾱ ε − √(1−ᾱ) x_0/σ.
/// With σ = 1 they compute exactly what the isotropic overloads compute.
/// </summary>
public static class ObjectiveMath
{
    /// <summary>
    /// From the network output at x_t, the predicted (x̂_0, ε̂):
    /// ε: x̂_0 = (x_t − √(1−ᾱ) ε̂)/√ᾱ; x0: ε̂ = (x_t − √ᾱ x̂_0)/√(1−ᾱ); v: x̂_0 = √ᾱ x_t − √(1−ᾱ) v̂, ε̂ = √(1−ᾱ) x_t + √ᾱ v̂.
    /// </summary>
    public static void ToX0AndEpsilon(Objective objective, double alphaCumprod, ReadOnlySpan<float> xt, ReadOnlySpan<float> output, Span<float> x0, Span<float> eps)
    {
        double sa = Math.Sqrt(alphaCumprod), so = Math.Sqrt(1.0 - alphaCumprod);
        for (int i = 0; i < xt.Length; i++)
        {
            double x = xt[i], o = output[i];
            switch (objective)
            {
                case Objective.Epsilon:
                    eps[i] = (float)o;
                    x0[i] = (float)((x - (so * o)) / sa);
                    break;
                case Objective.X0:
                    x0[i] = (float)o;
                    eps[i] = (float)((x - (sa * o)) / so);
                    break;
                default:
                    x0[i] = (float)((sa * x) - (so * o));
                    eps[i] = (float)((so * x) + (sa * o));
                    break;
            }
        }
    }

    /// <summary>
    /// The same with per-element noise scales σ (x_t = √ᾱ x_0 + √(1−ᾱ) σ ε); ε̂ is returned at unit scale:
    /// ε: x̂_0 = (x_t − √(1−ᾱ) σ ε̂)/√ᾱ; x0: ε̂ = (x_t − √ᾱ x̂_0)/(√(1−ᾱ) σ);
    /// v: x̂_0 = √ᾱ x_t − √(1−ᾱ) σ v̂, ε̂ = √(1−ᾱ) x_t/σ + √ᾱ v̂.
    /// </summary>
    public static void ToX0AndEpsilon(
        Objective objective, double alphaCumprod, ReadOnlySpan<float> xt, ReadOnlySpan<float> output, ReadOnlySpan<double> scale, Span<float> x0, Span<float> eps)
    {
        double sa = Math.Sqrt(alphaCumprod), so = Math.Sqrt(1.0 - alphaCumprod);
        int size = scale.Length;
        for (int i = 0; i < xt.Length; i++)
        {
            double x = xt[i], o = output[i], s = scale[i % size];
            switch (objective)
            {
                case Objective.Epsilon:
                    eps[i] = (float)o;
                    x0[i] = (float)((x - (so * s * o)) / sa);
                    break;
                case Objective.X0:
                    x0[i] = (float)o;
                    eps[i] = (float)((x - (sa * o)) / (so * s));
                    break;
                default:
                    x0[i] = (float)((sa * x) - (so * s * o));
                    eps[i] = (float)((so * x / s) + (sa * o));
                    break;
            }
        }
    }

    /// <summary>The training target for the objective: ε, x_0, or v = √ᾱ ε − √(1−ᾱ) x_0.</summary>
    public static float Target(Objective objective, double alphaCumprod, float x0, float eps) => objective switch
    {
        Objective.Epsilon => eps,
        Objective.X0 => x0,
        _ => (float)((Math.Sqrt(alphaCumprod) * eps) - (Math.Sqrt(1.0 - alphaCumprod) * x0)),
    };

    /// <summary>The training target with noise scale σ: ε, x_0, or v = √ᾱ ε − √(1−ᾱ) x_0/σ.</summary>
    public static float Target(Objective objective, double alphaCumprod, float x0, float eps, double scale) => objective switch
    {
        Objective.Epsilon => eps,
        Objective.X0 => x0,
        _ => (float)((Math.Sqrt(alphaCumprod) * eps) - (Math.Sqrt(1.0 - alphaCumprod) * x0 / scale)),
    };
}
