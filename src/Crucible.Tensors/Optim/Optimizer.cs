namespace Crucible.Tensors.Optim;

/// <summary>
/// Base of the optimisers, PyTorch's <c>torch.optim.Optimizer</c> with a single parameter group: it holds the
/// parameters (leaf tensors with <see cref="Tensor.RequiresGrad"/>), the learning rate, and per-parameter state
/// (a step count and named float buffers such as Adam's moments), which <see cref="StateDict"/> and
/// <see cref="LoadStateDict"/> copy out and in so that training can checkpoint and resume bit-exactly.
/// </summary>
/// <remarks>
/// A parameter whose <see cref="Tensor.Grad"/> is null is skipped by <see cref="Step"/> (its state and step count
/// do not advance), as in PyTorch. State buffers are allocated the first time a parameter is stepped; after that
/// <see cref="Step"/> allocates nothing.
/// </remarks>
public abstract class Optimizer
{
    private readonly Tensor[] _parameters;
    private readonly OptimizerBuffer[] _bufferKinds;
    private readonly long[] _steps;
    private readonly float[]?[][] _buffers; // [kind slot][parameter index]
    private double _learningRate;

    /// <summary>Creates the optimiser over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to optimise; each must be a leaf that requires grad, listed once.</param>
    /// <param name="learningRate">The initial learning rate (finite, ≥ 0).</param>
    /// <param name="bufferKinds">The per-parameter buffers this optimiser keeps (its state-dict keys).</param>
    /// <exception cref="ArgumentException">No parameters, a duplicate, a non-leaf, or one that does not require grad.</exception>
    protected Optimizer(IEnumerable<Tensor> parameters, double learningRate, params OptimizerBuffer[] bufferKinds)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(bufferKinds);
        _parameters = [.. parameters];
        if (_parameters.Length == 0) throw new ArgumentException("the optimiser got an empty parameter list", nameof(parameters));
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i] ?? throw new ArgumentException($"parameter {i} is null", nameof(parameters));
            if (!p.IsLeaf || !p.RequiresGrad) throw new ArgumentException($"parameter {i} ({p.Name ?? "unnamed"}) must be a leaf tensor that requires grad", nameof(parameters));
            if (!seen.Add(p)) throw new ArgumentException($"parameter {i} ({p.Name ?? "unnamed"}) appears more than once", nameof(parameters));
        }

        LearningRate = learningRate;
        _bufferKinds = [.. bufferKinds];
        _steps = new long[_parameters.Length];
        _buffers = new float[]?[_bufferKinds.Length][];
        for (int k = 0; k < _bufferKinds.Length; k++) _buffers[k] = new float[]?[_parameters.Length];
    }

    /// <summary>The parameters, in the order given to the constructor (state-dict indices refer to it).</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>The learning rate used by the next <see cref="Step"/>; schedules set it before each step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "the learning rate must be finite and ≥ 0");
            _learningRate = value;
        }
    }

    /// <summary>Sets every parameter's gradient to null (PyTorch's <c>zero_grad(set_to_none=True)</c>).</summary>
    public void ZeroGrad() => ZeroGrad(setToNone: true);

    /// <summary>
    /// Clears every parameter's gradient: sets it to null when <paramref name="setToNone"/> (PyTorch 2's default),
    /// else fills an existing gradient buffer with zeros in place (PyTorch 1.13's default), so that a training loop
    /// reuses the same gradient buffers every step instead of allocating them anew.
    /// </summary>
    public void ZeroGrad(bool setToNone)
    {
        foreach (var p in _parameters) p.ZeroGrad(setToNone);
    }

    /// <summary>Performs one optimisation step from the parameters' current gradients.</summary>
    public abstract void Step();

    /// <summary>The number of steps taken by parameter <paramref name="index"/> (PyTorch's per-parameter <c>state["step"]</c>).</summary>
    public long StepCount(int index) => _steps[index];

    /// <summary>
    /// A deep copy of the optimiser state: the learning rate and, for every parameter that has state, its step count
    /// and buffers, keyed by the parameter's index in <see cref="Parameters"/>.
    /// </summary>
    public OptimizerState StateDict()
    {
        var entries = new Dictionary<int, ParameterState>();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var buffers = new Dictionary<OptimizerBuffer, float[]>();
            for (int k = 0; k < _bufferKinds.Length; k++)
            {
                if (_buffers[k][i] is { } b) buffers[_bufferKinds[k]] = (float[])b.Clone();
            }

            if (_steps[i] != 0 || buffers.Count != 0) entries[i] = new ParameterState(_steps[i], buffers);
        }

        return new OptimizerState(LearningRate, entries);
    }

    /// <summary>
    /// Replaces the optimiser state with a copy of <paramref name="state"/> (from <see cref="StateDict"/> of an
    /// optimiser of the same type over parameters of the same shapes). Parameters absent from it lose their state.
    /// Hyper-parameters other than the learning rate keep the values given to this optimiser's constructor.
    /// </summary>
    /// <exception cref="ArgumentException">An index out of range, a buffer this optimiser does not keep, or a length mismatch.</exception>
    public void LoadStateDict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (index, entry) in state.Parameters)
        {
            if ((uint)index >= (uint)_parameters.Length) throw new ArgumentException($"state for parameter {index}, the optimiser has {_parameters.Length}", nameof(state));
            if (entry.Step < 0) throw new ArgumentException($"negative step count for parameter {index}", nameof(state));
            foreach (var (kind, values) in entry.Buffers)
            {
                if (Array.IndexOf(_bufferKinds, kind) < 0) throw new ArgumentException($"{GetType().Name} keeps no {kind} buffer", nameof(state));
                if (values.Length != _parameters[index].Length) throw new ArgumentException($"{kind} of parameter {index} has {values.Length} values, the parameter has {_parameters[index].Length}", nameof(state));
            }
        }

        LearningRate = state.LearningRate;
        Array.Clear(_steps);
        foreach (var slot in _buffers) Array.Clear(slot);
        foreach (var (index, entry) in state.Parameters)
        {
            _steps[index] = entry.Step;
            foreach (var (kind, values) in entry.Buffers) _buffers[Array.IndexOf(_bufferKinds, kind)][index] = (float[])values.Clone();
        }
    }

    /// <summary>Advances parameter <paramref name="index"/>'s step count and returns the new value (1 on the first step).</summary>
    protected long IncrementStep(int index) => ++_steps[index];

    /// <summary>Parameter <paramref name="index"/>'s buffer <paramref name="kind"/>, allocated as zeros on first use.</summary>
    protected float[] Buffer(OptimizerBuffer kind, int index)
    {
        var slot = _buffers[Slot(kind)];
        return slot[index] ??= new float[_parameters[index].Length];
    }

    /// <summary>Parameter <paramref name="index"/>'s buffer <paramref name="kind"/>, or null before it is first created.</summary>
    protected float[]? BufferOrNull(OptimizerBuffer kind, int index) => _buffers[Slot(kind)][index];

    /// <summary>The gradient of parameter <paramref name="index"/>, or null; throws when its length is wrong.</summary>
    protected float[]? GradOf(int index)
    {
        var p = _parameters[index];
        var g = p.Grad;
        if (g is not null && g.Length != p.Length) throw new InvalidOperationException($"parameter {index} ({p.Name ?? "unnamed"}) has {p.Length} values but a gradient of {g.Length}");
        return g;
    }

    private int Slot(OptimizerBuffer kind)
    {
        int k = Array.IndexOf(_bufferKinds, kind);
        if (k < 0) throw new InvalidOperationException($"{GetType().Name} keeps no {kind} buffer");
        return k;
    }
}
