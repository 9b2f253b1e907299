namespace Crucible.Tensors.Optim;

/// <summary>The named per-parameter buffers an optimiser keeps (the keys of PyTorch's per-parameter state).</summary>
public enum OptimizerBuffer
{
    /// <summary>SGD's momentum buffer b (PyTorch <c>momentum_buffer</c>).</summary>
    Momentum,

    /// <summary>Adam's first moment m (PyTorch <c>exp_avg</c>).</summary>
    ExpAvg,

    /// <summary>Adam's second moment v (PyTorch <c>exp_avg_sq</c>).</summary>
    ExpAvgSq,

    /// <summary>AMSGrad's running maximum of v (PyTorch <c>max_exp_avg_sq</c>).</summary>
    MaxExpAvgSq,
}

/// <summary>One parameter's optimiser state: its step count and its buffers (each as long as the parameter).</summary>
/// <param name="Step">How many steps this parameter has taken.</param>
/// <param name="Buffers">The buffers by kind.</param>
public sealed record ParameterState(long Step, IReadOnlyDictionary<OptimizerBuffer, float[]> Buffers);

/// <summary>
/// A snapshot of an <see cref="Optimizer"/>'s state (PyTorch's <c>optimizer.state_dict()</c>): the learning rate and
/// the per-parameter state keyed by the parameter's index in <see cref="Optimizer.Parameters"/>.
/// </summary>
/// <param name="LearningRate">The learning rate when the snapshot was taken.</param>
/// <param name="Parameters">State of each parameter that has any, by index.</param>
public sealed record OptimizerState(double LearningRate, IReadOnlyDictionary<int, ParameterState> Parameters);
