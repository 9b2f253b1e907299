using System.Numerics.Tensors;

namespace Crucible.Tensors;

/// <summary>How a loss reduces its per-element values (PyTorch's <c>reduction</c>).</summary>
public enum Reduction
{
    /// <summary>The mean over all elements.</summary>
    Mean,

    /// <summary>The sum over all elements.</summary>
    Sum,

    /// <summary>No reduction: the per-element losses.</summary>
    None,
}

/// <summary>Loss functions, as PyTorch's <c>torch.nn.functional</c>.</summary>
public static class Losses
{
    /// <summary>
    /// Mean squared error: (input − target)². With <see cref="Reduction.Mean"/> or <see cref="Reduction.Sum"/> (and
    /// equal shapes) it is one op, whose backward adds (2·(input − target))·(∂L/∂loss · 1/N) to the input's gradient,
    /// with the same float operations (so the same values) as the composition <c>((input − target)²).Mean()</c>.
    /// </summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (reduction == Reduction.None || !Tensor.SameShape(input.Shape, target.Shape)) return Reduce((input - target).Square(), reduction);
        int n = input.Length;
        var d = TensorArena.Output(n);
        TensorPrimitives.Subtract(input.Data, target.Data, d);
        var sq = TensorArena.Output(n);
        TensorPrimitives.Multiply(d, d, sq);
        float scale = reduction == Reduction.Mean ? 1f / Math.Max(1, n) : 1f;
        float sum = TensorPrimitives.Sum(sq);
        var loss = reduction == Reduction.Mean ? sum * scale : sum;
        return Tensor.Result([loss], [], [input, target], o =>
        {
            // as the composition: ∂/∂sum = g·(1/N), ∂/∂sq = that, ∂/∂d = it · 2d
            float c = reduction == Reduction.Mean ? o.Grad![0] * scale : o.Grad![0];
            var twoD = TensorArena.Output(n);
            TensorPrimitives.Multiply(d, 2f, twoD);
            if (input.RequiresGrad)
            {
                var gx = input.GradOrCreate();
                TensorPrimitives.MultiplyAdd(twoD, c, gx, gx);
            }

            if (target.RequiresGrad)
            {
                var gt = target.GradOrCreate();
                TensorPrimitives.MultiplyAdd(twoD, -c, gt, gt);
            }
        });
    }

    /// <summary>Mean absolute error: |input − target|.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Reduce((input - target).Abs(), reduction);

    /// <summary>
    /// Huber loss with threshold δ: ½d² for |d| &lt; δ, δ(|d| − ½δ) otherwise, d = input − target.
    /// </summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, float delta = 1f, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        var d = input - target;

        // ½·min(|d|, δ)² + δ·(|d| − min(|d|, δ)) equals both branches and is differentiable by composition
        var a = d.Abs();
        var quadratic = a.Clamp(0f, delta);
        var linear = a - quadratic;
        return Reduce((quadratic.Square() * 0.5f) + (linear * delta), reduction);
    }

    /// <summary>
    /// Binary cross-entropy on logits x with targets t in [0, 1], in the stable form
    /// max(x, 0) − x·t + log1p(e^−|x|), computed in double and rounded once (so that a confident, right logit keeps its
    /// small loss ≈ e^−|x| instead of rounding 1 + e^−|x| to 1); its gradient is σ(x) − t.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        if (!Tensor.SameShape(logits.Shape, target.Shape)) throw new ArgumentException("BCE: logits and target shapes differ");
        var x = logits.Data;
        var t = target.Data;
        var loss = TensorArena.Zeroed(x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i];
            loss[i] = (float)(Math.Max(xi, 0) - (xi * t[i]) + Log1P(Math.Exp(-Math.Abs(xi))));
        }

        var perElement = Tensor.Result(loss, logits.Shape, [logits, target], o =>
        {
            var g = o.Grad!;
            for (int i = 0; i < x.Length; i++)
            {
                float s = 1f / (1f + MathF.Exp(-x[i]));
                if (logits.RequiresGrad) logits.GradOrCreate()[i] += g[i] * (s - t[i]);
                if (target.RequiresGrad) target.GradOrCreate()[i] += -g[i] * x[i];
            }
        });
        return Reduce(perElement, reduction);
    }

    // log(1 + e) to double precision also for a tiny e: log(u)·e/(u − 1) with u = 1 + e cancels u's rounding (Goldberg 1991)
    private static double Log1P(double e)
    {
        double u = 1 + e;
        return u == 1 ? e : Math.Log(u) * e / (u - 1);
    }

    private static Tensor Reduce(Tensor x, Reduction reduction) => reduction switch
    {
        Reduction.Mean => x.Mean(),
        Reduction.Sum => x.Sum(),
        _ => x,
    };
}
