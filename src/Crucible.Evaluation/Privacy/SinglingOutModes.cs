namespace Crucible.Evaluation.Privacy;

/// <summary>The report's names of <see cref="SinglingOutMode"/> (report.json, scalar metric keys, thresholds, the CLI).</summary>
public static class SinglingOutModes
{
    private static readonly Crucible.Data.WireNames<SinglingOutMode> Names = new(
        (SinglingOutMode.Univariate, "univariate"),
        (SinglingOutMode.Multivariate, "multivariate"));

    /// <summary>The name of <paramref name="mode"/>: <c>univariate</c> or <c>multivariate</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a defined mode.</exception>
    public static string WireName(this SinglingOutMode mode) =>
        Names.NameOf(mode) ?? throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a singling-out mode");
}
