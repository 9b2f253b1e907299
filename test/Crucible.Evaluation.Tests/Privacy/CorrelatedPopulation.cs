using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>The synthetic populations of the privacy tests (<see cref="PrivacyAttackTests"/>, <see cref="PrivacyAuditTests"/>, <see cref="MembershipGateTests"/>) and their memorising generator.</summary>
internal static class CorrelatedPopulation
{
    /// <summary>
    /// n rows of the series <paramref name="names"/>, each value <paramref name="common"/>·z + <paramref name="own"/>·z_j with
    /// z shared by the row: per row one normal z, then one z_j per series, from Philox(<paramref name="seed"/>, <paramref name="stream"/>).
    /// </summary>
    public static SeriesSet Sample(int n, ulong seed, ulong stream, string[] names, double common, double own)
    {
        var rng = new Philox(seed, stream);
        var columns = new double[names.Length][];
        for (var j = 0; j < names.Length; j++) columns[j] = new double[n];
        for (var i = 0; i < n; i++)
        {
            var z = rng.NextNormal();
            for (var j = 0; j < names.Length; j++) columns[j][i] = (common * z) + (own * rng.NextNormal());
        }

        return new SeriesSet(names, columns);
    }

    /// <summary>A memorising generator: train rows drawn with replacement plus noise of std <paramref name="jitter"/>.</summary>
    public static SeriesSet Copies(SeriesSet train, int count, ulong seed, double jitter = 0.05)
    {
        var rng = new Philox(seed, 11);
        var columns = new double[train.SeriesCount][];
        for (var j = 0; j < columns.Length; j++) columns[j] = new double[count];
        for (var i = 0; i < count; i++)
        {
            var r = rng.NextInt(train.RowCount);
            for (var j = 0; j < columns.Length; j++) columns[j][i] = train.Columns[j][r] + (jitter * rng.NextNormal());
        }

        return new SeriesSet(train.Names, columns);
    }
}
