namespace Crucible.Tensors.Optim;

/// <summary>A snapshot of an <see cref="ExponentialMovingAverage"/>.</summary>
/// <param name="NumUpdates">How many updates had run.</param>
/// <param name="Shadow">The averaged values, one array per parameter.</param>
public sealed record EmaState(long NumUpdates, IReadOnlyList<float[]> Shadow);
