namespace Crucible.Diffusion.Training;

/// <summary>Builds <see cref="DiffusionTrainer.LossWeights"/> for stratified training.</summary>
public static class LossWeights
{
    /// <summary>
    /// Expands one weight per series to one per sample element, for samples whose first axis is the series: (D) rows of
    /// the tabular kind, or (D, W) windows, row i = series i (every step of series i gets w_i).
    /// </summary>
    /// <param name="seriesWeights">w_i, one per series (D values).</param>
    /// <param name="sampleShape">The denoiser's sample shape; its first dimension must be D.</param>
    public static float[] PerSeries(IReadOnlyList<double> seriesWeights, IReadOnlyList<int> sampleShape)
    {
        ArgumentNullException.ThrowIfNull(seriesWeights);
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Count == 0 || sampleShape[0] != seriesWeights.Count)
            throw new ArgumentException($"{seriesWeights.Count} series weights for a sample of shape ({string.Join(", ", sampleShape)})", nameof(seriesWeights));
        int d = seriesWeights.Count, per = 1;
        for (int k = 1; k < sampleShape.Count; k++) per *= sampleShape[k];
        var weights = new float[d * per];
        for (int i = 0; i < d; i++) weights.AsSpan(i * per, per).Fill((float)seriesWeights[i]);
        return weights;
    }
}
