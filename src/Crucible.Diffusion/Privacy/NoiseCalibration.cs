namespace Crucible.Diffusion.Privacy;

/// <summary>Finds the noise multiplier for a privacy budget (Opacus's <c>get_noise_multiplier</c>).</summary>
public static class NoiseCalibration
{
    /// <summary>Above this σ the budget is declared unreachable (Opacus's <c>MAX_SIGMA</c>).</summary>
    public const double MaxSigma = 1e6;

    /// <summary>
    /// The noise multiplier σ for which <paramref name="steps"/> steps at sampling rate <paramref name="sampleRate"/> spend
    /// at most <paramref name="targetEpsilon"/> at <paramref name="delta"/>: σ_high starts at 10 and doubles until
    /// ε(σ_high) &lt; ε*, then bisection on [0, σ_high] stops once ε* − ε(σ_high) ≤ <paramref name="tolerance"/>, and σ_high is
    /// returned. The result never overshoots: ε(σ) ≤ ε* always.
    /// </summary>
    /// <param name="targetEpsilon">The budget ε*.</param>
    /// <param name="delta">δ.</param>
    /// <param name="sampleRate">The Poisson sampling rate q.</param>
    /// <param name="steps">The planned steps.</param>
    /// <param name="orders">The Rényi orders (null: <see cref="Rdp.OpacusOrders"/>).</param>
    /// <param name="conversion">RDP to (ε, δ).</param>
    /// <param name="tolerance">How far below ε* the bisection may stop.</param>
    /// <param name="formula">The RDP series: that of the accountant the σ is then accounted with (an
    /// <see cref="RdpAccountant"/> of another formula may find a larger ε at fractional orders, past the budget).</param>
    /// <exception cref="ArgumentOutOfRangeException">The budget is unreachable (σ would exceed <see cref="MaxSigma"/>), or
    /// q = 0 or no steps (nothing to calibrate).</exception>
    public static double NoiseMultiplier(double targetEpsilon, double delta, double sampleRate, long steps,
        IReadOnlyList<double>? orders = null, RdpConversion conversion = RdpConversion.Balle2020, double tolerance = 0.01,
        RdpFormula formula = RdpFormula.Opacus)
    {
        if (!(targetEpsilon > 0)) throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "ε must be > 0");
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance));
        if (!(sampleRate > 0)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "q must be > 0: with q = 0 nothing is released and any σ spends ε = 0");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        var o = orders ?? Rdp.OpacusOrders;
        return NoiseMultiplier(sigma => Rdp.Epsilon(o, Rdp.Compute(sampleRate, sigma, steps, o, formula), delta, conversion).Epsilon, targetEpsilon, tolerance);
    }

    /// <summary>
    /// The same bisection for any accountant: <paramref name="epsilonOf"/> maps σ to the ε it spends (e.g. a
    /// <see cref="PrvAccountant"/> or <see cref="GdpAccountant"/> over the planned steps).
    /// </summary>
    public static double NoiseMultiplier(Func<double, double> epsilonOf, double targetEpsilon, double tolerance = 0.01)
    {
        if (!(targetEpsilon > 0)) throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "ε must be > 0");
        if (!(tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(tolerance));
        double sigmaLow = 0, sigmaHigh = 10, epsHigh = double.PositiveInfinity;
        while (epsHigh > targetEpsilon)
        {
            sigmaHigh *= 2;
            epsHigh = epsilonOf(sigmaHigh);
            if (sigmaHigh > MaxSigma) throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "the privacy budget is too low");
        }

        // the interval test ends the bisection when ε does not reach ε* − tolerance at any σ (e.g. ε(σ) = 0 for all σ)
        while (targetEpsilon - epsHigh > tolerance && sigmaHigh - sigmaLow > 1e-12)
        {
            var sigma = (sigmaLow + sigmaHigh) / 2;
            // adjacent doubles (σ above about 1e4, where their spacing exceeds 1e-12): the interval cannot shrink further
            if (!(sigma > sigmaLow && sigma < sigmaHigh)) break;
            var eps = epsilonOf(sigma);
            if (eps < targetEpsilon)
            {
                sigmaHigh = sigma;
                epsHigh = eps;
            }
            else
            {
                sigmaLow = sigma;
            }
        }

        return sigmaHigh;
    }

    /// <summary>Opacus's step count for an epoch budget: <c>int(epochs / q)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="epochs"/> is not a finite number ≥ 0, <paramref name="sampleRate"/> is not in (0, 1], or the count
    /// passes <see cref="long.MaxValue"/> (the cast of NaN or of a quotient that large gave an arbitrary count).
    /// </exception>
    public static long StepsForEpochs(double epochs, double sampleRate)
    {
        if (!(epochs >= 0 && double.IsFinite(epochs))) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be a finite number ≥ 0");
        if (!(sampleRate > 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "q must be in (0, 1]");
        var steps = Math.Floor(epochs / sampleRate);
        if (!(steps < 9.2233720368547758e18)) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs / q passes the largest step count");
        return (long)steps;
    }
}
