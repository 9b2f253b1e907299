using Crucible.Tensors;
using Crucible.Tensors.Optim;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// Adam as TensorFlow 1's <c>tf.compat.v1.train.AdamOptimizer</c> applies it (the published scores' optimiser, with
/// its defaults lr 1e-3, β 0.9 / 0.999, ε 1e-8). It differs from PyTorch's <see cref="Adam"/> only in where ε sits:
/// <code>
/// m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2)
/// θ ← θ − lr · √(1 − β2^t) / (1 − β1^t) · m / (√v + ε)
/// </code>
/// (Kingma and Ba's "epsilon hat" form: ε is added to √v before the bias correction, not after).
/// </summary>
internal sealed class TfAdam : Optimizer
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    public TfAdam(IEnumerable<Tensor> parameters, double lr = 1e-3)
        : base(parameters, lr, OptimizerBuffer.ExpAvg, OptimizerBuffer.ExpAvgSq)
    {
    }

    public override void Step()
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            var grad = GradOf(i);
            if (grad is null) continue;
            var theta = Parameters[i].Data;
            var t = IncrementStep(i);
            var m = Buffer(OptimizerBuffer.ExpAvg, i);
            var v = Buffer(OptimizerBuffer.ExpAvgSq, i);
            var lrT = (float)(LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t)));
            const float w1 = (float)(1 - Beta1), w2 = (float)(1 - Beta2), eps = (float)Epsilon;
            for (var k = 0; k < theta.Length; k++)
            {
                var g = grad[k];
                m[k] += (g - m[k]) * w1;
                v[k] += ((g * g) - v[k]) * w2;
                theta[k] -= lrT * m[k] / (MathF.Sqrt(v[k]) + eps);
            }
        }
    }
}
