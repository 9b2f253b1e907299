using System.Globalization;
using System.Text;

namespace Crucible.Tensors.Nn;

/// <summary>
/// Base class of every layer, after PyTorch's <c>torch.nn.Module</c>: it owns named parameters, buffers and
/// submodules, registered explicitly in the constructor. All enumerations follow registration order, so
/// <see cref="NamedParameters"/> and <see cref="StateDict"/> are deterministic and, when a module registers in
/// PyTorch's order, carry PyTorch's keys in PyTorch's order (dotted, e.g. <c>blocks.0.weight</c>).
/// </summary>
/// <remarks>
/// The forward pass is typed in subclasses: single-input layers derive from <see cref="Module{TInput, TOutput}"/>;
/// multi-input layers (<see cref="GRU"/>, <see cref="MultiheadAttention"/>) declare their own <c>Forward</c>.
/// </remarks>
public abstract class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>True in training mode (the default); <see cref="Dropout"/> is active only then.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>
    /// Registers a trainable parameter under <paramref name="name"/>: marks it as requiring grad, stores its
    /// local name in <see cref="Tensor.Name"/> and returns it.
    /// </summary>
    protected Tensor RegisterParameter(string name, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckName(name);
        parameter.RequiresGrad_();
        parameter.Name = name;
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a non-trainable tensor that is part of the state (PyTorch's <c>register_buffer</c>).</summary>
    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        CheckName(name);
        buffer.Name = name;
        _buffers.Add((name, buffer));
        return buffer;
    }

    /// <summary>Registers a child module; its entries appear under <c>name.</c> in every enumeration.</summary>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid name \"{name}\": must be non-empty and contain no '.'", nameof(name));
        }

        if (_parameters.Exists(p => p.Name == name) || _buffers.Exists(b => b.Name == name) || _children.Exists(c => c.Name == name))
        {
            throw new ArgumentException($"\"{name}\" is already registered in {GetType().Name}", nameof(name));
        }
    }

    /// <summary>
    /// Every parameter of this module and its descendants, in registration order, each once: a parameter shared by two
    /// modules (tied weights, a child registered twice) comes at its first place only, as in PyTorch.
    /// </summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>
    /// (dotted name, parameter) pairs: own parameters first, then each child's, depth first. A parameter reached under
    /// several names is listed once, under the first (PyTorch's <c>remove_duplicate=True</c>); <see cref="StateDict"/>
    /// keeps every name.
    /// </summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in Walk(m => m._parameters))
        {
            if (seen.Add(parameter)) yield return (name, parameter);
        }
    }

    /// <summary>(dotted name, buffer) pairs in the same order as <see cref="NamedParameters"/>.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() => Walk(m => m._buffers);

    /// <summary>The direct children with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module and all its descendants, depth first (PyTorch's <c>modules()</c>).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, child) in _children)
        {
            foreach (var m in child.Modules()) yield return m;
        }
    }

    private IEnumerable<(string, Tensor)> Walk(Func<Module, List<(string Name, Tensor Tensor)>> select, string prefix = "")
    {
        foreach (var (name, t) in select(this)) yield return (prefix + name, t);
        foreach (var (name, child) in _children)
        {
            foreach (var item in child.Walk(select, prefix + name + ".")) yield return item;
        }
    }

    /// <summary>The total number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Length);

    /// <summary>Sets training mode on this module and every descendant; returns this.</summary>
    public Module Train(bool mode = true)
    {
        foreach (var m in Modules()) m.IsTraining = mode;
        return this;
    }

    /// <summary>Evaluation mode: <c>Train(false)</c>.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>
    /// Parameters then buffers of each module, depth first, under dotted names (PyTorch's <c>state_dict()</c>).
    /// The values are detached aliases: they share storage with the live parameters.
    /// </summary>
    public StateDict StateDict()
    {
        var dict = new StateDict();
        AddState(dict, "");
        return dict;
    }

    private void AddState(StateDict dict, string prefix)
    {
        foreach (var (name, t) in _parameters) dict.Add(prefix + name, t.Detach());
        foreach (var (name, t) in _buffers) dict.Add(prefix + name, t.Detach());
        foreach (var (name, child) in _children) child.AddState(dict, prefix + name + ".");
    }

    /// <summary>
    /// Copies values from <paramref name="stateDict"/> into this module's parameters and buffers (in place, so
    /// optimisers holding the parameters see the new values). Size mismatches always throw. With
    /// <paramref name="strict"/>, missing or unexpected keys throw too, with PyTorch's message layout; nothing is
    /// copied when anything throws.
    /// </summary>
    /// <returns>The missing keys (in this module, not in the dict) and the unexpected keys (in the dict only).</returns>
    /// <exception cref="ArgumentException">A shape differs, or (strict) keys are missing or unexpected.</exception>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var own = StateDict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatches = new List<string>();
        foreach (var (key, target) in own)
        {
            if (stateDict.TryGetValue(key, out var source) && !Tensor.SameShape(source.Shape, target.Shape))
            {
                mismatches.Add($"size mismatch for {key}: copying a param with shape {Tensor.FormatShape(source.Shape)} " +
                    $"from checkpoint, the shape in current model is {Tensor.FormatShape(target.Shape)}.");
            }
        }

        if (mismatches.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"Error(s) in loading state_dict for {GetType().Name}:");
            if (strict && unexpected.Count > 0) sb.Append("\n\tUnexpected key(s) in state_dict: ").Append(Quote(unexpected)).Append('.');
            if (strict && missing.Count > 0) sb.Append("\n\tMissing key(s) in state_dict: ").Append(Quote(missing)).Append('.');
            foreach (var m in mismatches) sb.Append("\n\t").Append(m);
            throw new ArgumentException(sb.ToString(), nameof(stateDict));
        }

        foreach (var (key, target) in own)
        {
            if (stateDict.TryGetValue(key, out var source)) source.Data.AsSpan().CopyTo(target.Data);
        }

        return new LoadStateDictResult(missing, unexpected);
    }

    private static string Quote(List<string> keys) => string.Join(", ", keys.Select(k => $"\"{k}\""));
}

/// <summary>
/// A module with one typed input and output; <see cref="Sequential"/> chains <c>Module&lt;Tensor, Tensor&gt;</c>.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TOutput">The output type.</typeparam>
public abstract class Module<TInput, TOutput> : Module
{
    /// <summary>The forward pass.</summary>
    public abstract TOutput Forward(TInput input);
}

/// <summary>The outcome of a non-strict <see cref="Module.LoadStateDict"/> (PyTorch's <c>_IncompatibleKeys</c>).</summary>
/// <param name="MissingKeys">Keys of the module that the state dict lacked (left unchanged).</param>
/// <param name="UnexpectedKeys">Keys of the state dict that the module does not have (ignored).</param>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
