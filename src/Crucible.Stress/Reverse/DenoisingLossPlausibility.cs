using System.Globalization;
using Crucible.Diffusion;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Sequence;
using Crucible.Stress.Generators;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Reverse;

/// <summary>
/// Plausibility as the model's own likelihood proxy: minus the mean denoising loss of a window,
/// −(1/(K·J)) Σ_k Σ_j mean_elements (ε̂(x_{t_k}, t_k) − ε_j)², with x_{t_k} = √ᾱ x_0 + √(1−ᾱ) σ ε_j in model space
/// (x_0 = (r − offset)/scale), K timesteps t_k = ⌊(k + ½) T / K⌋ spread evenly over the T training steps and J noise draws.
/// This is the ε-MSE term of the diffusion ELBO with uniform weights over t (Ho et al. 2020's L_simple): lower loss,
/// higher likelihood under the model. The noises are common to all windows (Philox, <see cref="Seed"/>), so the scores
/// of different windows differ only through the windows (common random numbers), and the same windows always score the same.
/// </summary>
/// <remarks>
/// The network runs under the conditions given (classifier-free guidance scale 1), or unconditionally. The windows are
/// mapped to model space by the map of windows drawn under those conditions
/// (<see cref="SequenceGenerator.AffineFor(IReadOnlyDictionary{string, double})"/>): for a state-scaled model x_0 =
/// (r / s − offset)/scale with s the given level over the reference, so the conditions must set the level. Without one the
/// model's density of a window is a mixture over the drawn levels, not the loss at any one s (scoring at s = 1 would
/// rank windows by their volatility against the reference level, not by the model's likelihood): refused, rule
/// <see cref="SequenceGenerator.StateScaleRule"/>.
/// </remarks>
public sealed class DenoisingLossPlausibility : IPlausibilityScore
{
    private readonly SequenceGenerator _model;
    private readonly IDenoiser _denoiser;
    private readonly SeriesAffine _affine;

    /// <summary>Scores with <paramref name="model"/> at <paramref name="timesteps"/> timesteps × <paramref name="draws"/> noise draws.</summary>
    /// <exception cref="Crucible.Data.InvalidInputException">A state-scaled model and conditions that leave its level unset or
    /// set it ≤ 0 (rule <see cref="SequenceGenerator.StateScaleRule"/>).</exception>
    public DenoisingLossPlausibility(SequenceGenerator model, IReadOnlyDictionary<string, double>? conditions = null, int timesteps = 10, int draws = 2, ulong seed = 0x11CE)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(timesteps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timesteps, model.Schedule.Steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        _model = model;
        _affine = model.AffineFor(conditions);
        _denoiser = new ClassifierFreeGuidance(model.Denoiser, model.StandardizedCondition(conditions), 1.0);
        (Timesteps, Draws, Seed) = (timesteps, draws, seed);
    }

    /// <summary>K.</summary>
    public int Timesteps { get; }

    /// <summary>J.</summary>
    public int Draws { get; }

    /// <summary>The seed of the common noises.</summary>
    public ulong Seed { get; }

    /// <inheritdoc/>
    public string Method => "denoising-loss";

    /// <inheritdoc/>
    public double[] Score(ScenarioWindows windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (!windows.Columns.SequenceEqual(_model.Columns)) throw new ArgumentException("the windows' series differ from the model's", nameof(windows));
        if (windows.Window != _model.Window) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the model scores windows of {_model.Window} days, not {windows.Window}"), nameof(windows));
        int d = windows.SeriesCount, w = windows.Window, size = d * w, probes = Timesteps * Draws;
        var schedule = _model.Schedule;
        var sigma = schedule.ElementScales(_denoiser.SampleShape);
        var noise = new float[probes * size];
        new Philox(Seed, stream: 0).FillNormal(noise);
        var steps = Enumerable.Range(0, Timesteps).Select(k => (int)((k + 0.5) * schedule.Steps / Timesteps)).ToArray();
        var (offset, scale) = (_affine.Offset, _affine.Scale);
        var scores = new double[windows.Count];
        var x0 = new float[size];
        var xt = new float[probes * size];
        var input = new float[probes * size];
        var output = new float[probes * size];
        var t = new int[probes];
        var x0Hat = new float[size];
        var epsHat = new float[size];
        for (int c = 0; c < windows.Count; c++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int day = 0; day < w; day++) x0[(i * w) + day] = (float)((windows[c, day, i] - offset[i]) / scale[i]);
            }

            for (int p = 0; p < probes; p++)
            {
                t[p] = steps[p / Draws];
                schedule.AddNoise(x0, noise.AsSpan(p * size, size), t[p], sigma, xt.AsSpan(p * size, size));
            }

            // the network sees x_t / σ (as the sampler and the trainer feed it)
            for (int k = 0; k < input.Length; k++) input[k] = (float)(xt[k] / sigma[k % size]);
            _denoiser.Predict(input, probes, t, output);
            double loss = 0;
            for (int p = 0; p < probes; p++)
            {
                ObjectiveMath.ToX0AndEpsilon(_model.Options.Objective, schedule.Base.AlphasCumprod[t[p]], xt.AsSpan(p * size, size), output.AsSpan(p * size, size),
                    sigma, x0Hat, epsHat);
                for (int k = 0; k < size; k++)
                {
                    double e = epsHat[k] - noise[(p * size) + k];
                    loss += e * e;
                }
            }

            scores[c] = -loss / (probes * size);
        }

        return scores;
    }
}
