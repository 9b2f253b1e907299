using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

public class ModuleTests
{
    private static string[] Names(Module m) => m.NamedParameters().Select(p => p.Name).ToArray();

    [Fact]
    public void NamedParameters_FollowPyTorchNamesAndOrder()
    {
        var rng = new Philox(1);
        Assert.Equal(["weight", "bias"], Names(new Linear(3, 2, rng)));
        Assert.Equal(["weight"], Names(new Linear(3, 2, rng, bias: false)));
        Assert.Equal(["weight", "bias"], Names(new Conv1d(2, 3, 5, rng)));
        Assert.Equal(
            ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"],
            Names(new GRU(3, 4, rng, numLayers: 2)));
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], Names(new MultiheadAttention(4, 2, rng)));
        Assert.Equal(
            ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"],
            Names(new MultiheadAttention(4, 2, rng, kdim: 5, vdim: 3)));
        var seq = new Sequential(new Linear(3, 4, rng), new ReLU(), new Sequential(new Linear(4, 4, rng), new LayerNorm(4)));
        Assert.Equal(["0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.1.weight", "2.1.bias"], Names(seq));
        Assert.Equal(Names(seq), seq.StateDict().Keys);
    }

    [Fact]
    public void ParameterCount_SumsElements()
    {
        var rng = new Philox(1);
        Assert.Equal((3 * 2) + 2, new Linear(3, 2, rng).ParameterCount());
        // layer 0: 12·3 + 12·4 + 2·12 = 108; layer 1: 12·4 + 12·4 + 2·12 = 120
        Assert.Equal(108 + 120, new GRU(3, 4, rng, numLayers: 2).ParameterCount());
        Assert.Equal((3 * 4 * 4) + (3 * 4) + (4 * 4) + 4, new MultiheadAttention(4, 2, rng).ParameterCount());
    }

    [Fact]
    public void Parameters_TiedModule_ListsEachParameterOnceAtItsFirstPlace()
    {
        // PyTorch: a module registered twice (tied weights) has its parameters in parameters() and named_parameters()
        // once, under the first name; state_dict() keeps both names
        var rng = new Philox(1);
        var shared = new Linear(3, 3, rng);
        var head = new Linear(3, 2, rng);
        var seq = new Sequential(shared, new ReLU(), shared, head);
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], Names(seq));
        Assert.Equal([shared.Weight, shared.Bias!, head.Weight, head.Bias!], seq.Parameters());
        Assert.Equal((3 * 3) + 3 + (3 * 2) + 2, seq.ParameterCount());
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"], seq.StateDict().Keys);
    }

    [Fact]
    public void Parameters_TiedModule_AnOptimiserStepsTheSharedParametersOnce()
    {
        var rng = new Philox(1);
        var shared = new Linear(3, 3, rng);
        var seq = new Sequential(shared, new ReLU(), shared);
        var sgd = new Crucible.Tensors.Optim.Sgd(seq.Parameters(), lr: 0.5); // a parameter listed twice is refused
        seq.Forward(Tensor.Ones([2, 3])).Sum().Backward();
        var expected = shared.Weight.Data.Zip(shared.Weight.Grad!, (w, g) => w - (0.5f * g)).ToArray();
        sgd.Step();
        Assert.Equal(expected, shared.Weight.Data);

        var copy = new Linear(3, 3, new Philox(2));
        var other = new Sequential(copy, new ReLU(), copy);
        var result = other.LoadStateDict(seq.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Equal(shared.Weight.Data, copy.Weight.Data);
    }

    [Fact]
    public void TrainEval_PropagateToEveryDescendant()
    {
        var rng = new Philox(1);
        var seq = new Sequential(new Linear(3, 4, rng), new Dropout(0.5f, rng.Split(9)), new Sequential(new Linear(4, 4, rng), new Dropout(0.1f, rng.Split(8))));
        Assert.All(seq.Modules(), m => Assert.True(m.IsTraining));
        Assert.Same(seq, seq.Eval());
        Assert.Equal(6, seq.Modules().Count());
        Assert.All(seq.Modules(), m => Assert.False(m.IsTraining));
        seq.Train();
        Assert.All(seq.Modules(), m => Assert.True(m.IsTraining));
    }

    [Fact]
    public void ZeroGrad_ClearsEveryParameter()
    {
        var lin = new Linear(3, 2, new Philox(1));
        lin.Forward(Tensor.Ones([4, 3])).Sum().Backward();
        Assert.All(lin.Parameters(), p => Assert.NotNull(p.Grad));
        lin.ZeroGrad();
        Assert.All(lin.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void StateDict_RoundTrip_CopiesValuesIntoLiveParameters()
    {
        var a = new GRU(2, 3, new Philox(1), numLayers: 2);
        var b = new GRU(2, 3, new Philox(2), numLayers: 2);
        var bWeight = b.Parameters().First();
        Assert.NotEqual(a.Parameters().First().Data, bWeight.Data);

        var result = b.LoadStateDict(a.StateDict());
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Same(bWeight, b.Parameters().First()); // same tensor objects: optimisers keep working
        foreach (var ((na, pa), (nb, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
        {
            Assert.Equal(na, nb);
            Assert.Equal(pa.Data, pb.Data);
            Assert.NotSame(pa.Data, pb.Data);
        }

        var x = GradCheck.Random([2, 4, 2], new System.Random(1), requiresGrad: false);
        Assert.Equal(a.Forward(x).Output.Data, b.Forward(x).Output.Data);
    }

    [Fact]
    public void StateDict_AliasesParameters()
    {
        var lin = new Linear(3, 2, new Philox(1));
        var sd = lin.StateDict();
        Assert.Same(lin.Weight.Data, sd["weight"].Data);
        Assert.False(sd["weight"].RequiresGrad);
    }

    [Fact]
    public void LoadStateDict_Strict_ListsMissingAndUnexpectedKeys()
    {
        var rng = new Philox(1);
        var seq = new Sequential(new Linear(3, 4, rng), new ReLU(), new Linear(4, 2, rng));
        var before = seq.Parameters().Select(p => (float[])p.Data.Clone()).ToList();
        var dict = new StateDict();
        foreach (var (k, v) in seq.StateDict())
        {
            if (k != "2.bias") dict.Add(k, Tensor.Zeros(v.Shape));
        }

        dict.Add("1.weight", Tensor.Zeros([1]));
        var e = Assert.Throws<ArgumentException>(() => seq.LoadStateDict(dict));
        Assert.Contains("Error(s) in loading state_dict for Sequential:", e.Message, StringComparison.Ordinal);
        Assert.Contains("Missing key(s) in state_dict: \"2.bias\".", e.Message, StringComparison.Ordinal);
        Assert.Contains("Unexpected key(s) in state_dict: \"1.weight\".", e.Message, StringComparison.Ordinal);

        // nothing was copied
        Assert.Equal(before, seq.Parameters().Select(p => p.Data));

        // non-strict loads what matches and reports the rest
        var result = seq.LoadStateDict(dict, strict: false);
        Assert.Equal(["2.bias"], result.MissingKeys);
        Assert.Equal(["1.weight"], result.UnexpectedKeys);
        Assert.All(seq.NamedParameters().Where(p => p.Name != "2.bias"), p => Assert.All(p.Parameter.Data, v => Assert.Equal(0f, v)));
        Assert.Equal(before[3], seq.NamedParameters().Single(p => p.Name == "2.bias").Parameter.Data);
    }

    [Fact]
    public void LoadStateDict_ShapeMismatch_ThrowsEvenWhenNotStrict()
    {
        var lin = new Linear(3, 2, new Philox(1));
        var dict = new StateDict { { "weight", Tensor.Zeros([2, 4]) }, { "bias", Tensor.Zeros([2]) } };
        var e = Assert.Throws<ArgumentException>(() => lin.LoadStateDict(dict, strict: false));
        Assert.Contains("size mismatch for weight: copying a param with shape (2, 4) from checkpoint, the shape in current model is (2, 3).", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegisterParameter_RejectsDuplicateAndDottedNames()
    {
        Assert.Throws<ArgumentException>(() => new BadModule("w", "w"));
        Assert.Throws<ArgumentException>(() => new BadModule("a.b", "c"));
    }

    private sealed class BadModule : Module
    {
        public BadModule(string first, string second)
        {
            RegisterParameter(first, Tensor.Zeros([1]));
            RegisterBuffer(second, Tensor.Zeros([1]));
        }
    }

    [Fact]
    public void Buffers_AreInStateDictButNotParameters()
    {
        var m = new WithBuffer();
        Assert.Equal(["w"], Names(m));
        Assert.Equal(["w", "running"], m.StateDict().Keys);
        Assert.Equal(["running"], m.NamedBuffers().Select(b => b.Name));
        Assert.False(m.NamedBuffers().Single().Buffer.RequiresGrad);
    }

    private sealed class WithBuffer : Module
    {
        public WithBuffer()
        {
            RegisterParameter("w", Tensor.Zeros([2]));
            RegisterBuffer("running", Tensor.Ones([2]));
        }
    }

    [Theory]
    [InlineData(1, 4)]   // one row for a batch of 2: broadcast silently, every row stepped from the first row's state
    [InlineData(2, 5)]
    [InlineData(3, 4)]
    public void GRUCell_AHiddenStateOfAnotherShape_IsRefused(int rows, int hidden)
    {
        var cell = new GRUCell(3, 4, new Philox(4));
        var input = Tensor.Zeros([2, 3]);
        var e = Assert.Throws<ArgumentException>(() => cell.Forward(input, Tensor.Zeros([rows, hidden])));
        Assert.Equal("hidden", e.ParamName);
        Assert.Equal([2, 4], cell.Forward(input, Tensor.Zeros([2, 4])).Shape);
    }
}
