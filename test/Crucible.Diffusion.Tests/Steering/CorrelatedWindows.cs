using Crucible.Diffusion.Schedules;

namespace Crucible.Diffusion.Tests.Steering;

/// <summary>
/// Windows of D = 3 daily returns, W = 10, i.i.d. over time with cross-sectional correlation R; the model works in
/// standardised units x = (r − μ)/sd, so x ~ N(0, R ⊗ I). Its exact ε-denoiser: x̂_0 = √ᾱ R (ᾱR + (1−ᾱ)I)⁻¹ x_t.
/// </summary>
internal sealed class CorrelatedWindows : IDenoiser
{
    public static readonly double[] Mean = [0.0004, 0.0002, 0.0001];
    public static readonly double[] Sd = [0.012, 0.006, 0.009];
    private static readonly double[,] R = { { 1, 0.7, -0.3 }, { 0.7, 1, -0.1 }, { -0.3, -0.1, 1 } };
    private readonly double[][] _gain;
    private readonly NoiseSchedule _schedule;

    public CorrelatedWindows(NoiseSchedule schedule)
    {
        _schedule = schedule;
        _gain = new double[schedule.Steps][];
        for (int t = 0; t < schedule.Steps; t++)
        {
            double a = schedule.AlphasCumprod[t];
            var m = new double[3, 3];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++) m[i, j] = (a * R[i, j]) + (i == j ? 1 - a : 0);
            }

            var inv = Inverse3(m);
            var k = new double[9];
            for (int i = 0; i < 3; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    for (int l = 0; l < 3; l++) k[(i * 3) + j] += Math.Sqrt(a) * R[i, l] * inv[l, j];
                }
            }

            _gain[t] = k;
        }
    }

    public IReadOnlyList<int> SampleShape => [3, 10];

    public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
    {
        for (int b = 0; b < batch; b++)
        {
            double a = _schedule.AlphasCumprod[timesteps[b]];
            var k = _gain[timesteps[b]];
            var xt = x.Slice(b * 30, 30);
            for (int i = 0; i < 3; i++)
            {
                for (int t = 0; t < 10; t++)
                {
                    double x0 = (k[i * 3] * xt[t]) + (k[(i * 3) + 1] * xt[10 + t]) + (k[(i * 3) + 2] * xt[20 + t]);
                    output[(b * 30) + (i * 10) + t] = (float)((xt[(i * 10) + t] - (Math.Sqrt(a) * x0)) / Math.Sqrt(1 - a));
                }
            }
        }
    }

    private static double[,] Inverse3(double[,] m)
    {
        double det = (m[0, 0] * ((m[1, 1] * m[2, 2]) - (m[1, 2] * m[2, 1])))
            - (m[0, 1] * ((m[1, 0] * m[2, 2]) - (m[1, 2] * m[2, 0])))
            + (m[0, 2] * ((m[1, 0] * m[2, 1]) - (m[1, 1] * m[2, 0])));
        var inv = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
                inv[i, j] = ((m[r0, c0] * m[r1, c1]) - (m[r0, c1] * m[r1, c0])) / det;
            }
        }

        return inv;
    }

    public static float[] ToReturns(float[] x)
    {
        var r = new float[x.Length];
        for (int j = 0; j < x.Length; j++) r[j] = (float)(Mean[j % 30 / 10] + (Sd[j % 30 / 10] * x[j]));
        return r;
    }
}
