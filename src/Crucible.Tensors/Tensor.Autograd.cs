namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Back-propagates from this scalar: sets its gradient to 1 and runs every op's backward in reverse
    /// topological order. Gradients accumulate into <see cref="Grad"/>; call <see cref="ZeroGrad()"/> (or the
    /// optimiser's) between steps.
    /// </summary>
    public void Backward()
    {
        if (Data.Length != 1) throw new InvalidOperationException($"Backward() without a gradient needs a scalar, got shape {FormatShape(Shape)}");
        Backward([1f]);
    }

    /// <summary>Back-propagates with an explicit output gradient <paramref name="gradient"/> (same length as the tensor).</summary>
    public void Backward(float[] gradient)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (gradient.Length != Data.Length) throw new ArgumentException("gradient length must match the tensor", nameof(gradient));
        if (!RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require grad (no input requires grad, or it was built under NoGrad)");

        var order = TopologicalOrder();
        // a graph an earlier Backward() freed has no closures left: gradients would stop there without a word (PyTorch:
        // "Trying to backward through the graph a second time"); refused before any gradient is touched
        foreach (var node in order)
        {
            if (node._freed)
                throw new InvalidOperationException(
                    "Backward() through a graph that an earlier Backward() already used and freed (a graph is used once, as PyTorch's retain_graph=False): build it again");
        }

        var g = GradOrCreate();
        for (int i = 0; i < g.Length; i++) g[i] += gradient[i];

        // go in the reverse order of the forward pass
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (node._backward is null || node.Grad is null) continue;
            node._backward();
        }

        // free intermediate gradients and closures: the graph is used once (PyTorch's retain_graph=False)
        foreach (var node in order)
        {
            if (!node.IsLeaf)
            {
                node._backward = null;
                node._freed = true;
                if (!ReferenceEquals(node, this)) node.Grad = null;
            }
        }
    }

    /// <summary>Sets this tensor's gradient to null.</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>
    /// Clears this tensor's gradient: sets it to null when <paramref name="setToNone"/>, else fills an existing gradient
    /// buffer with zeros in place, so that the next backward accumulates into the same buffer instead of a new one.
    /// </summary>
    public void ZeroGrad(bool setToNone)
    {
        if (setToNone) Grad = null;
        else if (Grad is { } g) Array.Clear(g);
    }

    /// <summary>Iterative depth-first search (no recursion, so deep graphs cannot overflow the stack).</summary>
    private List<Tensor> TopologicalOrder()
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int NextChild)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node._parents.Length)
            {
                stack.Push((node, next + 1));
                var child = node._parents[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(node);
            }
        }

        return order;
    }
}
