using Crucible.Evaluation.Learned;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Learned;

/// <summary>
/// Context-FID: the Fréchet distance against scipy, the TS2Vec encoder's determinism, and a learned check that can fail
/// (the score must separate real windows from the same windows shuffled in time or rescaled).
/// </summary>
public class ContextFidTests
{
    // The golden values come from scipy 1.10.1 / numpy 1.24.2 (/usr/bin/python3), Diffusion-TS's calculate_fid:
    //   import numpy as np; from scipy.linalg import sqrtm
    //   def fid(x, y):
    //       mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    //       s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    //       covmean = sqrtm(s1.dot(s2))
    //       if np.iscomplexobj(covmean): covmean = covmean.real
    //       return np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2.0 * covmean)
    //   X = lambda n, d: np.array([[np.sin(0.3*i*(j+1) + 0.1*j) + 0.05*i*j for j in range(d)] for i in range(n)])
    //   Y = lambda n, d: np.array([[np.cos(0.37*i*(j+2) + 0.5*j*j) + 0.02*i*j for j in range(d)] for i in range(n)])
    //   for nx, ny, d in [(7, 9, 4), (40, 30, 6), (3, 5, 5)]: print(repr(float(fid(X(nx, d), Y(ny, d)))))
    private static double[] X(int n, int d) => Table(n, d, (i, j) => Math.Sin((0.3 * i * (j + 1)) + (0.1 * j)) + (0.05 * i * j));

    private static double[] Y(int n, int d) => Table(n, d, (i, j) => Math.Cos((0.37 * i * (j + 2)) + (0.5 * j * j)) + (0.02 * i * j));

    private static double[] Table(int n, int d, Func<int, int, double> f)
    {
        var v = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) v[(i * d) + j] = f(i, j);
        }

        return v;
    }

    [Theory]
    [InlineData(7, 9, 4, 1.6504276082094065, 1e-9)]
    [InlineData(40, 30, 6, 34.45270174220386, 1e-9)]
    [InlineData(3, 5, 5, 4.26269482570909, 1e-6)] // Σ_x of rank 2: Σ_x Σ_y has three zero eigenvalues, whose square roots (√1e-17) blur the last digits
    public void FrechetDistance_MatchesScipy(int nx, int ny, int d, double expected, double relative)
    {
        var actual = ContextFid.FrechetDistance(X(nx, d), nx, Y(ny, d), ny, d);
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected), $"FID {actual:R}, scipy {expected:R}");
    }

    [Fact]
    public void FrechetDistance_IdenticalSets_IsZero()
    {
        var x = X(50, 8);
        Assert.True(Math.Abs(ContextFid.FrechetDistance(x, 50, x, 50, 8)) < 1e-9);
    }

    [Fact]
    public void FrechetDistance_MeanShift_IsTheSquaredShift()
    {
        const int n = 60, d = 5;
        var x = X(n, d);
        double[] delta = [0.5, -1.25, 2, 0, 0.75];
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) y[(i * d) + j] = x[(i * d) + j] + delta[j];
        }

        var expected = delta.Sum(v => v * v);
        Assert.True(Math.Abs(ContextFid.FrechetDistance(x, n, y, n, d) - expected) < 1e-9 * expected);
    }

    // Toy windows (N, T, D): a sine of random frequency and phase per window, a second feature its lagged copy, a third
    // a slow trend; independent draws for different seeds.
    private static WindowSet Toy(int n, int t, ulong seed)
    {
        var rng = new Philox(seed);
        var v = new double[n * t * 3];
        for (int i = 0; i < n; i++)
        {
            double freq = 0.2 + (0.3 * rng.NextDouble()), phase = 2 * Math.PI * rng.NextDouble(), slope = rng.NextDouble() - 0.5;
            for (int s = 0; s < t; s++)
            {
                int at = ((i * t) + s) * 3;
                v[at] = 0.5 + (0.4 * Math.Sin((freq * s) + phase));
                v[at + 1] = 0.5 + (0.4 * Math.Sin((freq * (s - 2)) + phase));
                v[at + 2] = 0.5 + (slope * s / t);
            }
        }

        return new WindowSet(v, n, t, 3);
    }

    private static readonly ContextFidOptions Small = new() { Iterations = 60 };

    [Fact]
    public void Compute_SameSeed_SameScore_OneAndTwoThreads()
    {
        var real = Toy(40, 12, 1);
        var syn = Toy(40, 12, 2);
        var options = new ContextFidOptions { Iterations = 8 };
        double one, two, again, other;
        using (EngineThreads.Limit(1)) one = ContextFid.Compute(real, syn, 7, options).Score;
        using (EngineThreads.Limit(2)) two = ContextFid.Compute(real, syn, 7, options).Score;
        again = ContextFid.Compute(real, syn, 7, options).Score;
        other = ContextFid.Compute(real, syn, 8, options).Score;
        Assert.Equal(one, two);
        Assert.Equal(one, again);
        Assert.NotEqual(one, other);
        Assert.True(double.IsFinite(one) && one > 0, $"score {one}");
    }

    [Fact]
    public void IterationsFor_IsTs2VecsRule()
    {
        var options = new ContextFidOptions();
        Assert.Equal(200, options.IterationsFor(new WindowSet(new double[100_000], 1000, 25, 4)));
        Assert.Equal(600, options.IterationsFor(new WindowSet(new double[100_002], 1, 2, 50_001)));
        Assert.Equal(600, options.IterationsFor(new WindowSet(new double[3662 * 24 * 6], 3662, 24, 6)));
        Assert.Equal(5, (options with { Iterations = 5 }).IterationsFor(new WindowSet(new double[6], 1, 2, 3)));
    }

    /// <summary>
    /// Real windows against an independent draw of the same process (a floor) score far below the same draw with every
    /// window's steps shuffled, or scaled by 0.6 around 0.5: an encoder that learned nothing, or a FID that ignored the
    /// representations, would fail this.
    /// </summary>
    [Fact]
    public void Score_SeparatesRealFromShuffledInTimeAndScaledWindows()
    {
        const int n = 160, t = 16;
        var real = Toy(n, t, 11);
        var same = Toy(n, t, 12);
        var shuffled = new double[same.Values.Length];
        var scaled = new double[same.Values.Length];
        var rng = new Philox(13);
        for (int i = 0; i < n; i++)
        {
            var p = Enumerable.Range(0, t).ToArray();
            rng.Shuffle(p.AsSpan());
            for (int s = 0; s < t; s++)
            {
                for (int f = 0; f < 3; f++)
                {
                    shuffled[(((i * t) + s) * 3) + f] = same[i, p[s], f];
                    scaled[(((i * t) + s) * 3) + f] = 0.5 + (0.6 * (same[i, s, f] - 0.5));
                }
            }
        }

        var (encoder, _, _) = ContextFid.Train(real, 5, Small);
        var x = ContextFid.Encode(encoder, real);
        double Score(WindowSet w) => ContextFid.FrechetDistance(x, n, ContextFid.Encode(encoder, w), n, encoder.OutputDims);
        double floor = Score(same), time = Score(new WindowSet(shuffled, n, t, 3)), scale = Score(new WindowSet(scaled, n, t, 3));
        Assert.True(time > 5 * floor && scale > 5 * floor, $"real {floor:G4}, shuffled in time {time:G4}, scaled {scale:G4}");
    }
}
