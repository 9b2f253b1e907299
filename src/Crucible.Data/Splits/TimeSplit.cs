namespace Crucible.Data.Splits;

/// <summary>
/// A time-ordered split of rows <c>[0, n)</c>: train <c>[TrainStart, TrainEnd)</c> | embargo of
/// <see cref="EmbargoRows"/> rows | holdout <c>[HoldoutStart, HoldoutEnd)</c>. End indices are exclusive.
/// Check it with <see cref="LeakageCheck.Verify(TimeSplit, int, IReadOnlyList{DateOnly}?)"/>.
/// </summary>
public sealed record TimeSplit(int TrainStart, int TrainEnd, int EmbargoRows, int HoldoutStart, int HoldoutEnd)
{
    /// <summary>Number of train rows.</summary>
    public int TrainRows => TrainEnd - TrainStart;

    /// <summary>Number of holdout rows.</summary>
    public int HoldoutRows => HoldoutEnd - HoldoutStart;

    /// <summary>The train rows of <paramref name="frame"/>.</summary>
    public TimeSeriesFrame Train(TimeSeriesFrame frame) => frame.Slice(TrainStart, TrainEnd);

    /// <summary>The holdout rows of <paramref name="frame"/>.</summary>
    public TimeSeriesFrame Holdout(TimeSeriesFrame frame) => frame.Slice(HoldoutStart, HoldoutEnd);
}
