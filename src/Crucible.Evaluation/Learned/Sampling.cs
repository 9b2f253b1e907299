using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>Random splits and batches of windows (numpy's <c>permutation</c> idioms on Philox), and batch tensors.</summary>
internal static class Sampling
{
    /// <summary>A random permutation of 0..n−1 (Fisher–Yates on Philox).</summary>
    public static int[] Permutation(int n, Philox rng)
    {
        var p = new int[n];
        for (var i = 0; i < n; i++) p[i] = i;
        rng.Shuffle(p.AsSpan());
        return p;
    }

    /// <summary>
    /// TimeGAN's <c>train_test_divide</c>: a random permutation of 0..n−1, the first ⌊n·rate⌋ for training, the rest for test.
    /// </summary>
    public static (int[] Train, int[] Test) TrainTestSplit(int n, double rate, Philox rng)
    {
        var p = Permutation(n, rng);
        var cut = (int)(n * rate);
        return (p[..cut], p[cut..]);
    }

    /// <summary>
    /// min(k, n) distinct entries of <paramref name="pool"/> in random order, as <c>permutation(n)[:k]</c> draws them: a
    /// partial Fisher–Yates shuffle of the pool in place (the pool's order carries over between calls, which leaves
    /// every draw uniform).
    /// </summary>
    public static int[] Draw(int[] pool, int k, Philox rng)
    {
        var n = pool.Length;
        k = Math.Min(k, n);
        for (var i = 0; i < k; i++)
        {
            var j = i + rng.NextInt(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..k];
    }

    /// <summary>
    /// The windows of each part, one after another along the batch axis, as a time-major tensor (T', B, F): steps
    /// <paramref name="firstStep"/> .. firstStep + T' − 1 and features <paramref name="firstFeature"/> ..
    /// firstFeature + F − 1 (T' = <paramref name="steps"/>, or the rest of the window when negative).
    /// </summary>
    public static Tensor TimeMajor(IReadOnlyList<(WindowSet Set, int[] Indices)> parts, int firstFeature, int features,
        int firstStep = 0, int steps = -1)
    {
        var set0 = parts[0].Set;
        if (steps < 0) steps = set0.Length - firstStep;
        var batch = parts.Sum(p => p.Indices.Length);
        var data = new float[steps * batch * features];
        var b = 0;
        foreach (var (set, indices) in parts)
        {
            var v = set.Values;
            foreach (var w in indices)
            {
                for (var t = 0; t < steps; t++)
                {
                    var src = (((w * set.Length) + firstStep + t) * set.Features) + firstFeature;
                    var dst = ((t * batch) + b) * features;
                    for (var f = 0; f < features; f++) data[dst + f] = (float)v[src + f];
                }
                b++;
            }
        }
        return new Tensor(data, [steps, batch, features]);
    }
}
