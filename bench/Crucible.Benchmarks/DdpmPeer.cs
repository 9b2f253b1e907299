using System.Diagnostics;
using System.Globalization;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Schedules;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Benchmarks;

/// <summary>Which of the peer's two networks (<c>torch_ddpm.py --kind mlp|tcn</c>).</summary>
public enum PeerKind
{
    /// <summary>20 features, hidden 256, 3 residual SiLU blocks: 306,708 parameters.</summary>
    Mlp,

    /// <summary>20 series × 24 steps, hidden 64, 4 dilated convolutions: 64,468 parameters.</summary>
    Tcn,
}

/// <summary>
/// The peer's training loop (<c>../shared/peers/torch_ddpm.py</c>), step for step: 20,000 N(0, 1) training samples;
/// each step draws a batch of 256 rows with replacement, t ~ U{0..T−1} and ε ~ N(0, I), forms
/// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε on the linear schedule (T = 1000), and takes one Adam step (lr 1e-3) on
/// mean((f(x_t, t/T) − ε)²). Timing: 20 warm-up steps, then the mean rate over 300 steps.
/// </summary>
internal sealed class DdpmPeer
{
    public const int TrainSamples = 20_000;
    public const int Batch = 256;

    private readonly Philox _rng = new(seed: 0, stream: 7);
    private readonly float[] _data;
    private readonly float[] _xt;
    private readonly float[] _eps;
    private readonly float[] _timeFraction = new float[Batch];
    private readonly NoiseSchedule _schedule = NoiseSchedule.Linear();
    private readonly Adam _adam;
    private readonly TensorArena _arena = new();

    public DdpmPeer(PeerKind kind)
    {
        Kind = kind;
        var init = new Philox(seed: 0);
        if (kind == PeerKind.Mlp)
        {
            var mlp = new MlpDenoiser(new MlpDenoiserConfig(Features: 20), init);
            Module = mlp;
            Shape = [20];
            Forward = mlp.Forward;
            Adapter = new MlpDenoiserAdapter(mlp, _schedule.Steps);
        }
        else
        {
            var tcn = new TcnDenoiser(new TcnDenoiserConfig(Series: 20, Window: 24, Hidden: 64, Layers: 4), init);
            Module = tcn;
            Shape = [20, 24];
            Forward = tcn.Forward;
            Adapter = new TcnDenoiserAdapter(tcn, _schedule.Steps);
        }

        SampleSize = Tensor.Numel(Shape);
        _data = new float[TrainSamples * SampleSize];
        new Philox(seed: 0, stream: 3).FillNormal(_data);
        _xt = new float[Batch * SampleSize];
        _eps = new float[Batch * SampleSize];
        _adam = new Adam(Module.Parameters(), lr: 1e-3);
    }

    public delegate Tensor ForwardFunc(Tensor x, ReadOnlySpan<float> timeFraction);

    public PeerKind Kind { get; }

    public Module Module { get; }

    public int[] Shape { get; }

    public int SampleSize { get; }

    public ForwardFunc Forward { get; }

    public Crucible.Diffusion.IDenoiser Adapter { get; }

    public NoiseSchedule Schedule => _schedule;

    /// <summary>Time spent in each phase of the steps run so far (filled only when profiling).</summary>
    public StepProfile Profile { get; } = new();

    /// <summary>One training step; returns the loss.</summary>
    public float Step(bool profile = false)
    {
        long t0 = profile ? Stopwatch.GetTimestamp() : 0;
        int size = SampleSize;
        _rng.FillNormalFast(_eps);
        for (int i = 0; i < Batch; i++)
        {
            int row = _rng.NextInt(TrainSamples);
            int t = _rng.NextInt(_schedule.Steps);
            double abar = _schedule.AlphasCumprod[t];
            float sa = (float)Math.Sqrt(abar), so = (float)Math.Sqrt(1.0 - abar);
            var x0 = _data.AsSpan(row * size, size);
            var eps = _eps.AsSpan(i * size, size);
            var xt = _xt.AsSpan(i * size, size);
            System.Numerics.Tensors.TensorPrimitives.Multiply(x0, sa, xt);          // x_t = √ᾱ x_0 + √(1 − ᾱ) ε
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(eps, so, xt, xt);
            _timeFraction[i] = (float)t / _schedule.Steps;
        }

        // every intermediate tensor of the step lives in the arena; PyTorch 1.13's zero_grad() zeroes in place
        long t1 = profile ? Stopwatch.GetTimestamp() : 0;
        float value;
        using (_arena.Use())
        {
            var output = Forward(new Tensor(_xt, [Batch, .. Shape]), _timeFraction);
            var loss = Losses.MseLoss(output, new Tensor(_eps, [Batch, .. Shape]));
            long t2 = profile ? Stopwatch.GetTimestamp() : 0;
            _adam.ZeroGrad(setToNone: false);
            loss.Backward();
            value = loss.Item();
            long t3 = profile ? Stopwatch.GetTimestamp() : 0;
            _adam.Step();
            _arena.Reset();
            if (profile)
            {
                long t4 = Stopwatch.GetTimestamp();
                Profile.Add(t1 - t0, t2 - t1, t3 - t2, t4 - t3);
            }
        }

        return value;
    }

    /// <summary>Cumulative phase times of profiled steps.</summary>
    public sealed class StepProfile
    {
        private long _batch, _forward, _backward, _optimizer;
        private int _steps;

        public void Add(long batch, long forward, long backward, long optimizer)
        {
            _batch += batch;
            _forward += forward;
            _backward += backward;
            _optimizer += optimizer;
            _steps++;
        }

        public string ToJson()
        {
            double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / Math.Max(1, _steps);
            return string.Create(CultureInfo.InvariantCulture,
                $"{{\"batch_ms\": {Ms(_batch):F3}, \"forward_ms\": {Ms(_forward):F3}, \"backward_ms\": {Ms(_backward):F3}, \"adam_ms\": {Ms(_optimizer):F3}}}");
        }
    }
}
