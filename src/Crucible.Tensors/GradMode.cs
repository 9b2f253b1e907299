namespace Crucible.Tensors;

/// <summary>
/// Whether ops record the graph for autograd. Off inside <see cref="NoGrad"/> scopes (sampling, evaluation).
/// The flag flows with the execution context, so work started inside a scope (Parallel.For, tasks) inherits it.
/// </summary>
public static class GradMode
{
    private static readonly AsyncLocal<int> DisabledDepth = new();

    /// <summary>True unless inside a <see cref="NoGrad"/> scope.</summary>
    public static bool IsEnabled => DisabledDepth.Value == 0;

    /// <summary>Disables graph recording until the returned scope is disposed: <c>using (GradMode.NoGrad()) { … }</c>.</summary>
    public static NoGradScope NoGrad()
    {
        DisabledDepth.Value++;
        return new NoGradScope();
    }

    /// <summary>The scope returned by <see cref="NoGrad"/>.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Restores grad mode.</summary>
        public void Dispose() => DisabledDepth.Value--;
    }
}
