using System.Globalization;
using Crucible.Diffusion.Training;

namespace Crucible.Cli.Progress;

/// <summary>
/// A one-line progress bar for training on a terminal: <c>[#######.............]  1200/4000  loss 0.2134  151 steps/s  ETA 18s</c>,
/// redrawn in place with a carriage return. <see cref="ForStandardError"/> gives one only when standard error is a
/// terminal, so redirected output stays quiet (ARCHITECTURE.md). Reports arrive on the training thread, in order.
/// </summary>
public sealed class TrainingProgressBar(TextWriter writer, int width = 30) : IProgress<TrainingProgress>
{
    private int _lastLength;

    /// <summary>A bar on standard error, or null when standard error is redirected.</summary>
    public static TrainingProgressBar? ForStandardError() => Console.IsErrorRedirected ? null : new TrainingProgressBar(Console.Error);

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        string line = Render(value, width);
        writer.Write('\r' + line + (line.Length < _lastLength ? new string(' ', _lastLength - line.Length) : ""));
        _lastLength = line.Length;
        if (value.Step >= value.TotalSteps) writer.WriteLine();
        writer.Flush();
    }

    /// <summary>The text of the bar for <paramref name="value"/>.</summary>
    public static string Render(TrainingProgress value, int width)
    {
        ArgumentNullException.ThrowIfNull(value);
        double done = value.TotalSteps <= 0 ? 1 : Math.Clamp((double)value.Step / value.TotalSteps, 0, 1);
        int filled = (int)Math.Round(done * width);
        double eta = value.StepsPerSecond > 0 ? (value.TotalSteps - value.Step) / value.StepsPerSecond : double.NaN;
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv,
            $"[{new string('#', filled)}{new string('.', width - filled)}] {value.Step.ToString(inv).PadLeft(value.TotalSteps.ToString(inv).Length)}/{value.TotalSteps}  {(double.IsNaN(value.Loss) ? "loss withheld" : string.Create(CultureInfo.InvariantCulture, $"loss {value.Loss:F4}"))}  {value.StepsPerSecond:F0} steps/s  ETA {(double.IsFinite(eta) ? Math.Ceiling(eta).ToString(inv) + "s" : "?")}");
    }
}
