namespace Crucible.Diffusion.Schedules;

/// <summary>The shape of the forward-process variance schedule β_1..β_T.</summary>
public enum BetaScheduleKind
{
    /// <summary>β linear from β_1 to β_T (Ho et al. 2020: 1e-4 → 0.02, T = 1000).</summary>
    Linear,

    /// <summary>ᾱ_t = cos²(((t/T + s)/(1 + s)) · π/2) / ᾱ_0, β clipped at 0.999 (Nichol &amp; Dhariwal 2021, eq. 17).</summary>
    Cosine,
}

/// <summary>
/// A DDPM forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), immutable and computed in double
/// (diffusers' "calculations for diffusion q(x_t | x_{t−1}) and others"). Timesteps are 0-based: index t
/// stands for the paper's step t + 1.
/// </summary>
public sealed record NoiseSchedule
{
    private NoiseSchedule(BetaScheduleKind kind, double[] betas)
    {
        Kind = kind;
        Betas = betas;
        int n = betas.Length;
        Alphas = new double[n];
        AlphasCumprod = new double[n];
        double cum = 1.0;
        for (int t = 0; t < n; t++)
        {
            Alphas[t] = 1.0 - betas[t];
            cum *= Alphas[t];
            AlphasCumprod[t] = cum;
        }
    }

    /// <summary>Which schedule this is.</summary>
    public BetaScheduleKind Kind { get; }

    /// <summary>β_t, the per-step noise variance.</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>α_t = 1 − β_t.</summary>
    public double[] Alphas { get; }

    /// <summary>ᾱ_t = Π_{s ≤ t} α_s.</summary>
    public double[] AlphasCumprod { get; }

    /// <summary>T, the number of diffusion steps.</summary>
    public int Steps => Alphas.Length;

    /// <summary>The linear schedule of Ho et al. (2020): β from <paramref name="betaStart"/> to <paramref name="betaEnd"/>.</summary>
    public static NoiseSchedule Linear(int steps = 1000, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), "a schedule needs at least 2 steps");
        var betas = new double[steps];
        for (int t = 0; t < steps; t++) betas[t] = betaStart + ((betaEnd - betaStart) * t / (steps - 1));
        return new NoiseSchedule(BetaScheduleKind.Linear, betas);
    }

    /// <summary>The cosine schedule of Nichol &amp; Dhariwal (2021), offset s = 0.008, β clipped at 0.999.</summary>
    public static NoiseSchedule Cosine(int steps = 1000, double s = 0.008)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), "a schedule needs at least 2 steps");
        static double F(double u, double s) => Math.Pow(Math.Cos((u + s) / (1 + s) * Math.PI / 2), 2);
        var betas = new double[steps];
        double f0 = F(0, s);
        for (int t = 0; t < steps; t++)
        {
            double abarPrev = F((double)t / steps, s) / f0, abar = F((double)(t + 1) / steps, s) / f0;
            betas[t] = Math.Min(1.0 - (abar / abarPrev), 0.999);
        }

        return new NoiseSchedule(BetaScheduleKind.Cosine, betas);
    }

    /// <summary>The schedule of the given kind with its defaults.</summary>
    public static NoiseSchedule Create(BetaScheduleKind kind, int steps = 1000) =>
        kind == BetaScheduleKind.Linear ? Linear(steps) : Cosine(steps);

    /// <summary>ᾱ before step t (ᾱ_{t−1}, with ᾱ_{−1} = 1).</summary>
    public double AlphaCumprodPrev(int t) => t <= 0 ? 1.0 : AlphasCumprod[t - 1];

    /// <summary>
    /// The posterior variance β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t of q(x_{t−1} | x_t, x_0) (Ho et al. eq. 7).
    /// </summary>
    public double PosteriorVariance(int t) => (1.0 - AlphaCumprodPrev(t)) / (1.0 - AlphasCumprod[t]) * Betas[t];

    /// <summary>σ_t = √((1 − ᾱ_t) / ᾱ_t), the noise level of step t in the units of x_0 (Karras et al. 2022's σ).</summary>
    public double NoiseLevel(int t) => Math.Sqrt((1.0 - AlphasCumprod[t]) / AlphasCumprod[t]);

    /// <summary>
    /// The first step t whose noise level σ_t is at least <paramref name="sigma"/> (σ_t rises with t), or
    /// <see cref="Steps"/> when no step reaches it; 0 for σ ≤ σ_0.
    /// </summary>
    public int FirstStepWithNoiseLevel(double sigma)
    {
        if (!(sigma >= 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "the noise level must be finite and ≥ 0");
        for (int t = 0; t < Steps; t++)
        {
            if (NoiseLevel(t) >= sigma) return t;
        }

        return Steps;
    }
}
