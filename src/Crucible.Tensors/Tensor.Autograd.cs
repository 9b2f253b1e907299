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
        Backward(s_one);
    }

    private static readonly float[] s_one = [1f]; // ∂L/∂L, only read

    // the traversal's scratch, kept per thread so that a training loop's backward passes reuse it (null while in use: a
    // backward run from inside a backward closure takes its own)
    [ThreadStatic]
    private static Traversal? s_traversal;

    private sealed class Traversal
    {
        public readonly List<Tensor> Order = [];
        public readonly HashSet<Tensor> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Tensor Node, int NextChild)> Stack = new();
    }

    /// <summary>Back-propagates with an explicit output gradient <paramref name="gradient"/> (same length as the tensor).</summary>
    public void Backward(float[] gradient)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (gradient.Length != Data.Length) throw new ArgumentException("gradient length must match the tensor", nameof(gradient));
        if (!RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require grad (no input requires grad, or it was built under NoGrad)");

        var traversal = s_traversal ?? new Traversal();
        s_traversal = null;
        try
        {
            BackwardAlong(TopologicalOrder(traversal), gradient);
        }
        finally
        {
            traversal.Order.Clear(); // no tensor of this graph is kept alive by the scratch
            traversal.Visited.Clear();
            traversal.Stack.Clear();
            s_traversal = traversal;
        }
    }

    private void BackwardAlong(List<Tensor> order, float[] gradient)
    {
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
    private List<Tensor> TopologicalOrder(Traversal scratch)
    {
        var (order, visited, stack) = (scratch.Order, scratch.Visited, scratch.Stack);
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
