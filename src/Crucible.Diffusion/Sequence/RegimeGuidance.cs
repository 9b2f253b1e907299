namespace Crucible.Diffusion.Sequence;

/// <summary>
/// Regime guidance: amplification of a condition's effect on the volatility regime of the windows, applied to their
/// log scale instead of to the score.
/// <code>
/// ℓ(x)  = ½ log( (1 / (D·W)) Σ_i Σ_t (x_it / σ_i)² )          the log scale of a window (σ_i: the series' noise scale)
/// ℓ_c   = mean of ℓ over a pilot draw under the request's conditions and classifier-free guidance
/// ℓ_∅   = the same for the unconditional model
/// k     = exp(a · (ℓ_c − ℓ_∅))                                 every window of the request is scaled by k (model space)
/// </code>
/// </summary>
/// <remarks>
/// <para>Why: classifier-free guidance ε̃ = ε_∅ + w(ε_c − ε_∅) targets p_c^w / p_∅^(w−1). For a condition that widens the
/// distribution (conditional variance r times the unconditional one) that target is improper once w/(w − 1) &lt; r, and
/// the stress conditions of the multi-asset panel widen it 2–7-fold, so the amplified samples depend on how the network
/// and the sampler behave off the data (bench/sequence/README.md, session 5). In the log scale of a window the
/// conditional is a shift, not a widening, and extrapolating the shift, ℓ_c + a(ℓ_c − ℓ_∅) = ℓ_∅ + (1 + a)(ℓ_c − ℓ_∅)
/// (classifier-free guidance's mean extrapolation with w = 1 + a for a Gaussian of equal variances), is always a proper
/// distribution. k rises with ℓ_c, so a response whose scale rises with a condition keeps rising under any a ≥ 0.</para>
/// <para>What it does not do: it scales each window as a whole (every series, every day, about the model-space origin),
/// so the shape of the stressed windows (correlations, autocorrelation of |r|, the balance between series) is the
/// model's own under the condition; the stress moves of a stress specification are enforced before the scaling, and
/// the metadata's violation rate is measured after it.</para>
/// <para>The pilot draw is fixed (<see cref="PilotWindows"/> windows, DDIM with <see cref="PilotSteps"/> steps, seed
/// <see cref="PilotSeedOffset"/> + the model's seed), so k is a function of the model, the conditions, w and σ_g only:
/// the same for any count, seed, sampler or thread count of the request.</para>
/// </remarks>
public static class RegimeGuidance
{
    /// <summary>Windows of the pilot draw behind ℓ_c and ℓ_∅ (the standard error of ℓ is about 1%).</summary>
    public const int PilotWindows = 1000;

    /// <summary>DDIM steps of the pilot draw.</summary>
    public const int PilotSteps = 50;

    /// <summary>The pilot draw's seed is this plus the model's seed.</summary>
    public const ulong PilotSeedOffset = 4000;

    /// <summary>
    /// The mean log scale ℓ of <paramref name="count"/> model-space windows, count × D × W (window b, series i, day t at
    /// ((b·D) + i)·W + t), each series divided by its scale σ_i; computed in double.
    /// </summary>
    /// <exception cref="ArgumentException">A length that is not count × D × W, or a scale that is not positive.</exception>
    public static double MeanLogScale(ReadOnlySpan<float> windows, int count, int window, IReadOnlyList<double> seriesScale)
    {
        ArgumentNullException.ThrowIfNull(seriesScale);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        int d = seriesScale.Count;
        if (windows.Length != count * d * window) throw new ArgumentException($"{windows.Length} values are not {count} × {d} × {window} windows", nameof(windows));
        foreach (double s in seriesScale)
        {
            if (!(s > 0 && double.IsFinite(s))) throw new ArgumentException("every series scale must be positive and finite", nameof(seriesScale));
        }

        double total = 0;
        for (int b = 0; b < count; b++)
        {
            double squares = 0;
            for (int i = 0; i < d; i++)
            {
                double inv = 1 / seriesScale[i];
                var row = windows.Slice(((b * d) + i) * window, window);
                foreach (float v in row) squares += (v * inv) * (v * inv);
            }

            total += 0.5 * Math.Log(Math.Max(squares / (d * window), double.Epsilon));
        }

        return total / count;
    }

    /// <summary>k = exp(a · (ℓ_c − ℓ_∅)).</summary>
    public static double Factor(double strength, double conditionalLogScale, double unconditionalLogScale) =>
        Math.Exp(strength * (conditionalLogScale - unconditionalLogScale));

    /// <summary>Multiplies every value by <paramref name="factor"/> (in double, rounded to float).</summary>
    public static void Apply(Span<float> windows, double factor)
    {
        for (int k = 0; k < windows.Length; k++) windows[k] = (float)(factor * windows[k]);
    }
}
