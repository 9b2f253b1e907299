namespace Crucible.Evaluation.Privacy;

/// <summary>The report's names of <see cref="SinglingOutMode"/> (report.json, scalar metric keys, thresholds, the CLI).</summary>
public static class SinglingOutModes
{
    /// <summary>"univariate" or "multivariate".</summary>
    public static string WireName(SinglingOutMode mode) => mode switch
    {
        SinglingOutMode.Univariate => "univariate",
        SinglingOutMode.Multivariate => "multivariate",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a singling-out mode"),
    };
}
