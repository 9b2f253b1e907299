using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// Multi-head scaled dot-product attention (Vaswani et al. 2017, "Attention is all you need", §3.2), PyTorch's
/// <c>nn.MultiheadAttention</c> with <c>batch_first=True</c>:
/// <code>
/// Q = query W_qᵀ + b_q,  K = key W_kᵀ + b_k,  V = value W_vᵀ + b_v      split into h heads of d = E / h
/// head_i = softmax(Q_i K_iᵀ / √d + mask) V_i
/// output = concat(head_1 … head_h) W_oᵀ + b_o
/// </code>
/// </summary>
/// <remarks>
/// <para>Parameters, in PyTorch's state-dict order: <c>in_proj_weight</c> (3E, E) = [W_q; W_k; W_v] when
/// kdim = vdim = E, else <c>q_proj_weight</c> (E, E), <c>k_proj_weight</c> (E, kdim), <c>v_proj_weight</c> (E, vdim);
/// then <c>in_proj_bias</c> (3E); then <c>out_proj.weight</c> (E, E), <c>out_proj.bias</c> (E).</para>
/// <para>Initialisation as PyTorch's <c>_reset_parameters</c>: the input projections by
/// <see cref="Init.XavierUniform"/> (the packed (3E, E) matrix as one tensor), drawn first from the constructor's
/// <see cref="Philox"/>; then <c>out_proj</c> as a default <see cref="Linear"/> from the same generator; then
/// in_proj_bias and out_proj.bias set to zero. Attention dropout draws from <c>rng.Split(1)</c>, which the module
/// owns.</para>
/// <para>Masks: <c>keyPaddingMask</c> (B, Tk), true = ignore that key; <c>attnMask</c> (Tq, Tk) added to the scores
/// (use <see cref="MaskFromBool"/> or <see cref="CausalMask"/> for boolean masks, true = not allowed). A row whose
/// keys are all masked gives NaN, as in PyTorch.</para>
/// </remarks>
public sealed class MultiheadAttention : Module
{
    private readonly Philox _dropoutRng;

    /// <summary>Creates the layer and initialises it from <paramref name="rng"/>.</summary>
    public MultiheadAttention(int embedDim, int numHeads, Philox rng, int? kdim = null, int? vdim = null, bool bias = true, float dropout = 0f)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (embedDim % numHeads != 0) throw new ArgumentException($"embedDim {embedDim} is not divisible by numHeads {numHeads}", nameof(numHeads));
        if (!(dropout >= 0f && dropout <= 1f)) throw new ArgumentOutOfRangeException(nameof(dropout), $"dropout probability {dropout} is not in [0, 1]");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        KDim = kdim ?? embedDim;
        VDim = vdim ?? embedDim;
        DropoutP = dropout;
        int e = embedDim;
        if (KDim == e && VDim == e)
        {
            InProjWeight = RegisterParameter("in_proj_weight", Init.XavierUniform(Tensor.Zeros([3 * e, e]), rng));
        }
        else
        {
            QProjWeight = RegisterParameter("q_proj_weight", Init.XavierUniform(Tensor.Zeros([e, e]), rng));
            KProjWeight = RegisterParameter("k_proj_weight", Init.XavierUniform(Tensor.Zeros([e, KDim]), rng));
            VProjWeight = RegisterParameter("v_proj_weight", Init.XavierUniform(Tensor.Zeros([e, VDim]), rng));
        }

        if (bias) InProjBias = RegisterParameter("in_proj_bias", Tensor.Zeros([3 * e]));
        OutProj = RegisterModule("out_proj", new Linear(e, e, rng, bias));
        if (OutProj.Bias is not null) Init.Zeros(OutProj.Bias);
        _dropoutRng = rng.Split(1);
    }

    /// <summary>E, the model width (query and output).</summary>
    public int EmbedDim { get; }

    /// <summary>h, the number of heads; each has width E / h.</summary>
    public int NumHeads { get; }

    /// <summary>The key width (E unless cross-attention).</summary>
    public int KDim { get; }

    /// <summary>The value width (E unless cross-attention).</summary>
    public int VDim { get; }

    /// <summary>Dropout probability on the attention weights (training only).</summary>
    public float DropoutP { get; }

    /// <summary>[W_q; W_k; W_v]: (3E, E) when kdim = vdim = E, else null.</summary>
    public Tensor? InProjWeight { get; }

    /// <summary>W_q: (E, E) when kdim or vdim differ from E, else null.</summary>
    public Tensor? QProjWeight { get; }

    /// <summary>W_k: (E, kdim) when kdim or vdim differ from E, else null.</summary>
    public Tensor? KProjWeight { get; }

    /// <summary>W_v: (E, vdim) when kdim or vdim differ from E, else null.</summary>
    public Tensor? VProjWeight { get; }

    /// <summary>[b_q; b_k; b_v]: (3E), or null without bias.</summary>
    public Tensor? InProjBias { get; }

    /// <summary>The output projection W_o, b_o.</summary>
    public Linear OutProj { get; }

    /// <summary>
    /// Attends: query (B, Tq, E), key (B, Tk, kdim), value (B, Tk, vdim) → (output (B, Tq, E), weights (B, Tq, Tk)
    /// averaged over heads when <paramref name="needWeights"/>, else null).
    /// </summary>
    /// <param name="query">(B, Tq, E).</param>
    /// <param name="key">(B, Tk, kdim).</param>
    /// <param name="value">(B, Tk, vdim).</param>
    /// <param name="keyPaddingMask">(B, Tk), true = ignore that key; or null.</param>
    /// <param name="attnMask">(Tq, Tk) added to every head's scores (−∞ forbids); or null.</param>
    /// <param name="needWeights">Whether to return the head-averaged attention weights.</param>
    /// <param name="dropoutRng">Overrides the module's own generator for attention dropout.</param>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, bool[,]? keyPaddingMask = null,
        Tensor? attnMask = null, bool needWeights = true, Philox? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        int e = EmbedDim, nh = NumHeads, dh = e / nh;
        CheckShape(query, e, nameof(query));
        CheckShape(key, KDim, nameof(key));
        CheckShape(value, VDim, nameof(value));
        int b = query.Shape[0], tq = query.Shape[1], tk = key.Shape[1];
        if (key.Shape[0] != b || value.Shape[0] != b || value.Shape[1] != tk)
        {
            throw new ArgumentException($"query {Tensor.FormatShape(query.Shape)}, key {Tensor.FormatShape(key.Shape)} and value {Tensor.FormatShape(value.Shape)} disagree on B or Tk", nameof(value));
        }

        var (wq, wk, wv) = InProjWeight is { } w ? (w.Slice(0, 0, e), w.Slice(0, e, e), w.Slice(0, 2 * e, e)) : (QProjWeight!, KProjWeight!, VProjWeight!);
        var (bq, bk, bv) = InProjBias is { } ib ? (ib.Slice(0, 0, e), ib.Slice(0, e, e), ib.Slice(0, 2 * e, e)) : ((Tensor?)null, (Tensor?)null, (Tensor?)null);

        // project and split heads: (B, T, E) -> (B, T, h, d) -> (B, h, T, d)
        var q = Tensor.Linear(query, wq, bq).Reshape(b, tq, nh, dh).Permute(0, 2, 1, 3);
        var k = Tensor.Linear(key, wk, bk).Reshape(b, tk, nh, dh).Permute(0, 2, 1, 3);
        var v = Tensor.Linear(value, wv, bv).Reshape(b, tk, nh, dh).Permute(0, 2, 1, 3);

        // scores: (B, h, Tq, d) @ (B, h, d, Tk) -> (B, h, Tq, Tk)
        var scores = q.Matmul(k.Transpose(-2, -1)) * (1f / MathF.Sqrt(dh));
        if (attnMask is not null)
        {
            if (!Tensor.SameShape(attnMask.Shape, [tq, tk])) throw new ArgumentException($"attnMask must be ({tq}, {tk}), got {Tensor.FormatShape(attnMask.Shape)}", nameof(attnMask));
            scores += attnMask;
        }

        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.GetLength(0) != b || keyPaddingMask.GetLength(1) != tk) throw new ArgumentException($"keyPaddingMask must be ({b}, {tk})", nameof(keyPaddingMask));
            var pad = TensorArena.Current?.Rent(b * tk, clear: false) ?? new float[b * tk];
            for (int i = 0; i < b; i++)
            {
                for (int j = 0; j < tk; j++) pad[(i * tk) + j] = keyPaddingMask[i, j] ? float.NegativeInfinity : 0f;
            }

            scores += new Tensor(pad, [b, 1, 1, tk]);
        }

        var attn = scores.Softmax(-1).Dropout(DropoutP, dropoutRng ?? _dropoutRng, IsTraining); // (B, h, Tq, Tk)

        // (B, h, Tq, Tk) @ (B, h, Tk, d) -> (B, h, Tq, d) -> (B, Tq, h, d) -> (B, Tq, E)
        var heads = attn.Matmul(v).Permute(0, 2, 1, 3).Reshape(b, tq, e);
        var output = OutProj.Forward(heads);
        return (output, needWeights ? attn.Mean(1) : null);
    }

    private static void CheckShape(Tensor x, int width, string name)
    {
        if (x.Rank != 3 || x.Shape[2] != width) throw new ArgumentException($"{name} must be (B, T, {width}), got {Tensor.FormatShape(x.Shape)}", name);
    }

    /// <summary>An additive (Tq, Tk) mask from a boolean one: true (not allowed) → −∞, false → 0.</summary>
    public static Tensor MaskFromBool(bool[,] disallowed)
    {
        ArgumentNullException.ThrowIfNull(disallowed);
        int tq = disallowed.GetLength(0), tk = disallowed.GetLength(1);
        var data = new float[tq * tk];
        for (int i = 0; i < tq; i++)
        {
            for (int j = 0; j < tk; j++) data[(i * tk) + j] = disallowed[i, j] ? float.NegativeInfinity : 0f;
        }

        return new Tensor(data, [tq, tk]);
    }

    /// <summary>The (T, T) causal mask: −∞ above the diagonal (query i may not see key j &gt; i), 0 elsewhere.</summary>
    public static Tensor CausalMask(int length)
    {
        var m = new bool[length, length];
        for (int i = 0; i < length; i++)
        {
            for (int j = i + 1; j < length; j++) m[i, j] = true;
        }

        return MaskFromBool(m);
    }
}
