namespace Crucible.Diffusion.Training;

/// <summary>How a denoiser is trained.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="BatchSize">Rows per step, drawn uniformly with replacement.</param>
/// <param name="LearningRate">Peak learning rate of AdamW.</param>
/// <param name="WeightDecay">AdamW's decoupled weight decay λ.</param>
/// <param name="WarmupSteps">Linear warm-up from 0 to the peak, then cosine decay to <paramref name="MinLearningRate"/>.</param>
/// <param name="MinLearningRate">The learning rate at the last step.</param>
/// <param name="GradClipNorm">Global L2 gradient-norm clip (0: none).</param>
/// <param name="EmaDecay">Decay of the exponential moving average of the weights used for sampling (0: none).</param>
/// <param name="Seed">Seeds the batch, timestep and noise draws (Philox stream 1; initialisation uses stream 0).</param>
/// <param name="PacfWeight">
/// λ of the PACF regulariser (<see cref="Regularisation.PacfPenalty"/>): the loss becomes MSE + λ·R, R the squared gap
/// between the ᾱ_t-weighted batch PACF of the predicted clean windows x̂_0 and the training windows' mean PACF. Only
/// for window denoisers (sample shape (D, W)). 0: off, and training is exactly what it is without the regulariser.
/// </param>
/// <param name="PacfLags">K, the PACF lags 1..K the regulariser compares (&lt; W).</param>
public sealed record TrainerOptions(
    int Steps = 2000,
    int BatchSize = 256,
    double LearningRate = 1e-3,
    double WeightDecay = 0.0,
    int WarmupSteps = 100,
    double MinLearningRate = 1e-5,
    double GradClipNorm = 1.0,
    double EmaDecay = 0.999,
    ulong Seed = 0,
    double PacfWeight = 0.0,
    int PacfLags = 10)
{
    /// <summary>
    /// The largest <see cref="BatchSize"/> a config may ask for: 2^20 rows per step (a batch of 2^31 − 1 rows overflowed
    /// the trainer's buffers, an internal error; a step over a million rows is already far past any use on a CPU).
    /// </summary>
    public const int MaxBatchSize = 1 << 20;
}

/// <summary>Progress of training, reported every few steps.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps in all.</param>
/// <param name="Loss">The mean loss since the previous report; NaN under DP-SGD, where the loss is a statistic of the
/// private rows outside the accountant (RELIABILITY DP-11) and is withheld, as the model manifest withholds it.</param>
/// <param name="StepsPerSecond">Throughput since the previous report.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double StepsPerSecond);
