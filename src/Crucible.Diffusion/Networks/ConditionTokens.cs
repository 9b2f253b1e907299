using Crucible.Diffusion.Conditioning;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// The condition tokens of <see cref="ConditionalTcnDenoiser"/>: token_j = MLP(e_j + z_j · u_j) for feature j with
/// standardised value z_j, and a learned null token n that is always present. Parameters: <c>feature</c> e (K, H),
/// <c>value</c> u (K, H), <c>null</c> n (1, H), <c>mlp.0</c> and <c>mlp.2</c> (H → H, SiLU between).
/// </summary>
public sealed class ConditionTokens : Module
{
    private readonly Tensor? _feature;
    private readonly Tensor? _value;
    private readonly Tensor _null;
    private readonly Linear? _mlp0;
    private readonly Linear? _mlp2;

    /// <summary>Creates the embeddings (N(0, 1), as <c>nn.Embedding</c>) and the MLP (PyTorch's default) from <paramref name="rng"/>.</summary>
    public ConditionTokens(int features, int hidden, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hidden);
        Features = features;
        Hidden = hidden;
        _null = RegisterParameter("null", Init.Normal(Tensor.Zeros([1, hidden]), rng));
        if (features > 0)
        {
            _feature = RegisterParameter("feature", Init.Normal(Tensor.Zeros([features, hidden]), rng));
            _value = RegisterParameter("value", Init.Normal(Tensor.Zeros([features, hidden]), rng));
            _mlp0 = new Linear(hidden, hidden, rng);
            _mlp2 = new Linear(hidden, hidden, rng);
            RegisterModule("mlp", new Sequential(_mlp0, new SiLU(), _mlp2));
        }
    }

    /// <summary>K.</summary>
    public int Features { get; }

    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>
    /// The tokens of <paramref name="batch"/> samples and the key-padding mask (true = absent): (B, 1 + K, H) with the
    /// null token first, or, without conditions, only the null token (B, 1, H) and no mask — the same attention output
    /// as every feature masked, at less cost.
    /// </summary>
    public (Tensor Tokens, bool[,]? Mask) Forward(int batch, ConditionBatch? conditions)
    {
        int k = Features, h = Hidden;
        var arena = TensorArena.Current;                                                                   // the step's buffers, where there is one
        var zeros = new Tensor(arena?.Rent(batch * h, clear: true) ?? new float[batch * h], [batch, 1, h]);
        var nullToken = _null.Reshape(1, 1, h) + zeros;                                                     // (B, 1, H)
        if (conditions is null || k == 0) return (nullToken, null);
        if (conditions.Count != batch || conditions.Features != k)
            throw new ArgumentException($"expected conditions for {batch} samples × {k} features", nameof(conditions));

        var z = arena?.Rent(batch * k, clear: false) ?? new float[batch * k];
        var mask = new bool[batch, 1 + k];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < k; j++)
            {
                bool present = conditions.Present[(b * k) + j];
                z[(b * k) + j] = present ? conditions.Values[(b * k) + j] : 0f;  // a masked token must stay finite
                mask[b, 1 + j] = !present;
            }
        }

        var raw = _feature!.Reshape(1, k, h) + (new Tensor(z, [batch, k, 1]) * _value!.Reshape(1, k, h)); // (B, K, H)
        var tokens = Tensor.Linear(Tensor.Linear(raw, _mlp0!.Weight, _mlp0.Bias, Activation.Silu), _mlp2!.Weight, _mlp2.Bias, Activation.None);
        return (Tensor.Concat([nullToken, tokens], axis: 1), mask);
    }
}
