using Crucible.Cli.Progress;
using Crucible.Diffusion.Training;

namespace Crucible.Cli.Tests;

public class TrainingProgressBarTests
{
    [Fact]
    public void Render_ShowsBarStepsLossSpeedAndEta()
    {
        Assert.Equal("[###.......]  300/1000  loss 0.1235  100 steps/s  ETA 7s", TrainingProgressBar.Render(new TrainingProgress(300, 1000, 0.12345, 100), 10));
        Assert.Equal("[##########] 1000/1000  loss 0.0500  0 steps/s  ETA ?", TrainingProgressBar.Render(new TrainingProgress(1000, 1000, 0.05, 0), 10));
        // DP-SGD training withholds its loss (NaN): the bar says so instead of printing NaN
        Assert.Equal("[###.......]  300/1000  loss withheld  100 steps/s  ETA 7s", TrainingProgressBar.Render(new TrainingProgress(300, 1000, double.NaN, 100), 10));
    }

    [Fact]
    public void Report_RedrawsInPlace_AndEndsTheLineAtTheLastStep()
    {
        using var writer = new StringWriter();
        var bar = new TrainingProgressBar(writer, width: 4);
        bar.Report(new TrainingProgress(1, 2, 1.0, 10));
        bar.Report(new TrainingProgress(2, 2, 0.5, 10));
        string text = writer.ToString();
        Assert.StartsWith("\r[##..] 1/2", text, StringComparison.Ordinal);
        Assert.Contains("\r[####] 2/2", text, StringComparison.Ordinal);
        Assert.EndsWith(Environment.NewLine, text, StringComparison.Ordinal);
    }
}
