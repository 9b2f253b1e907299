using Crucible.Tensors;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// TS2Vec's hierarchical contrastive loss (Yue et al. 2022, section 3.3 and Algorithm 1) of two views z1, z2 (B, T, C)
/// of the same windows over the same time steps.
/// </summary>
/// <remarks>
/// <code>
/// L = (1/K) Σ_levels [ ½·ℓ_inst(z1, z2) + ½·ℓ_temp(z1, z2) ]     then z ← maxpool_2(z) along time, while T &gt; 1
///     + ½·ℓ_inst at the last level of length 1 (no temporal term there); K = the number of levels
/// ℓ_inst: at each step t, the 2B vectors of both views; each one's positive is the same window in the other view,
///         its negatives the other 2B − 2 vectors: mean over (t, the 2B anchors) of −log softmax_{j≠i}(z_i·z_j)[partner]
/// ℓ_temp: in each window, the 2T vectors of both views; each one's positive is the same step in the other view:
///         mean over (b, the 2T anchors) of −log softmax_{j≠i}(z_i·z_j)[partner]
/// </code>
/// ℓ_inst is 0 for B = 1, ℓ_temp for T = 1; max-pooling by 2 drops an odd last step (PyTorch's <c>max_pool1d</c>).
/// The similarity is the raw dot product, without temperature or normalisation, as TS2Vec's code has it.
/// </remarks>
internal static class Ts2VecLoss
{
    /// <summary>The hierarchical loss of z1, z2 (B, T, C) as a scalar tensor.</summary>
    public static Tensor Hierarchical(Tensor z1, Tensor z2)
    {
        Check(z1, z2);
        Tensor? loss = null;
        int levels = 0;
        while (z1.Shape[1] > 1)
        {
            var term = (Instance(z1, z2) + Temporal(z1, z2)) * 0.5f;
            loss = loss is null ? term : loss + term;
            levels++;
            z1 = MaxPool2(z1);
            z2 = MaxPool2(z2);
        }

        var last = Instance(z1, z2) * 0.5f;
        loss = loss is null ? last : loss + last;
        levels++;
        return loss * (1f / levels);
    }

    /// <summary>The instance-wise loss of z1, z2 (B, T, C): contrast across the batch at each step.</summary>
    public static Tensor Instance(Tensor z1, Tensor z2)
    {
        if (z1.Shape[0] == 1) return Tensor.Scalar(0f);
        // (T, 2B, C): at step t, the 2B vectors of both views
        var z = Tensor.Concat([z1, z2], 0).Transpose(0, 1);
        return Contrast(z);
    }

    /// <summary>The temporal loss of z1, z2 (B, T, C): contrast across the steps of each window.</summary>
    public static Tensor Temporal(Tensor z1, Tensor z2)
    {
        if (z1.Shape[1] == 1) return Tensor.Scalar(0f);
        return Contrast(Tensor.Concat([z1, z2], 1)); // (B, 2T, C)
    }

    /// <summary>Max-pooling by 2 along time, the last step dropped when T is odd: (B, T, C) → (B, ⌊T/2⌋, C).</summary>
    public static Tensor MaxPool2(Tensor z)
    {
        int b = z.Shape[0], t = z.Shape[1], c = z.Shape[2];
        if (t % 2 == 1) z = z.Slice(1, 0, t - 1);
        return z.Reshape(b, t / 2, 2, c).Max(2);
    }

    // z: (G, 2n, C), groups of 2n vectors where vector i and i ± n are a positive pair. For each anchor i the logits are
    // z_i·z_j over j ≠ i (2n − 1 of them, the diagonal dropped as TS2Vec's tril/triu does); the loss is the mean over
    // groups and anchors of −log softmax(logits)[partner].
    private static Tensor Contrast(Tensor z)
    {
        int g = z.Shape[0], m = z.Shape[1], n = m / 2;
        var sim = z.Matmul(z.Transpose(1, 2)); // (G, 2n, 2n)
        var offDiagonal = new int[g * m * (m - 1)];
        var partner = new int[g * m];
        for (int k = 0; k < g; k++)
        {
            for (int i = 0; i < m; i++)
            {
                var row = offDiagonal.AsSpan(((k * m) + i) * (m - 1), m - 1);
                for (int j = 0; j < m - 1; j++) row[j] = j < i ? j : j + 1;
                // the partner's column after dropping the diagonal: i + n sits right of i (one less), i − n left of it
                partner[(k * m) + i] = i < n ? i + n - 1 : i - n;
            }
        }

        var logits = sim.Gather(offDiagonal, [g, m, m - 1]).LogSoftmax(-1);
        return logits.Gather(partner, [g, m, 1]).Sum() * (-1f / (g * m));
    }

    private static void Check(Tensor z1, Tensor z2)
    {
        if (z1.Rank != 3 || !z1.Shape.AsSpan().SequenceEqual(z2.Shape))
            throw new ArgumentException($"two views of the same shape (B, T, C) expected, got {Tensor.FormatShape(z1.Shape)} and {Tensor.FormatShape(z2.Shape)}", nameof(z2));
        if (z1.Shape[1] == 0) throw new ArgumentException("views without time steps", nameof(z1));
    }

    /// <summary>
    /// The plain-loop reference of <see cref="Hierarchical"/> in double (the test oracle): z1, z2 row-major (B, T, C).
    /// Written from the definition (explicit groups of vectors, pooling by pairs, Σ exp over j ≠ i), sharing no code
    /// with the tensor path.
    /// </summary>
    public static double HierarchicalNaive(double[] z1, double[] z2, int b, int t, int c)
    {
        double loss = 0;
        int levels = 0;
        while (true)
        {
            double term = 0;
            if (b > 1)
            {
                // instance: at each step s, the vectors z1[0..B−1, s] then z2[0..B−1, s]
                double sum = 0;
                for (int s = 0; s < t; s++)
                {
                    var group = new List<double[]>();
                    for (int w = 0; w < b; w++) group.Add(z1.AsSpan(((w * t) + s) * c, c).ToArray());
                    for (int w = 0; w < b; w++) group.Add(z2.AsSpan(((w * t) + s) * c, c).ToArray());
                    sum += GroupLossNaive(group);
                }

                term += 0.5 * sum / (t * 2 * b);
            }

            if (t > 1)
            {
                // temporal: in each window w, the vectors z1[w, 0..T−1] then z2[w, 0..T−1]
                double sum = 0;
                for (int w = 0; w < b; w++)
                {
                    var group = new List<double[]>();
                    for (int s = 0; s < t; s++) group.Add(z1.AsSpan(((w * t) + s) * c, c).ToArray());
                    for (int s = 0; s < t; s++) group.Add(z2.AsSpan(((w * t) + s) * c, c).ToArray());
                    sum += GroupLossNaive(group);
                }

                term += 0.5 * sum / (b * 2 * t);
            }

            loss += term;
            levels++;
            if (t == 1) break;
            // pool pairs of steps; an odd last step is dropped
            int half = t / 2;
            var p1 = new double[b * half * c];
            var p2 = new double[b * half * c];
            for (int w = 0; w < b; w++)
            {
                for (int s = 0; s < half; s++)
                {
                    for (int k = 0; k < c; k++)
                    {
                        int at = (((w * half) + s) * c) + k, even = (((w * t) + (2 * s)) * c) + k, odd = even + c;
                        p1[at] = Math.Max(z1[even], z1[odd]);
                        p2[at] = Math.Max(z2[even], z2[odd]);
                    }
                }
            }

            (z1, z2, t) = (p1, p2, half);
        }

        return loss / levels;
    }

    // Σ over anchors i of −log( exp(v_i·v_p) / Σ_{j≠i} exp(v_i·v_j) ), p = i ± m/2 the partner
    private static double GroupLossNaive(List<double[]> v)
    {
        int m = v.Count, n = m / 2;
        double total = 0;
        for (int i = 0; i < m; i++)
        {
            int p = i < n ? i + n : i - n;
            double max = double.NegativeInfinity;
            for (int j = 0; j < m; j++) if (j != i) max = Math.Max(max, DotNaive(v[i], v[j]));
            double sum = 0;
            for (int j = 0; j < m; j++) if (j != i) sum += Math.Exp(DotNaive(v[i], v[j]) - max);
            total -= DotNaive(v[i], v[p]) - max - Math.Log(sum);
        }

        return total;
    }

    private static double DotNaive(double[] u, double[] v)
    {
        double s = 0;
        for (int k = 0; k < u.Length; k++) s += u[k] * v[k];
        return s;
    }
}
