using Crucible.Data;

namespace Crucible.Diffusion.Conditioning;

/// <summary>A historical stress episode: a name and an inclusive date range.</summary>
/// <param name="Name">The archetype name used in stress specifications (lower case, e.g. <c>gfc-2008</c>).</param>
/// <param name="Start">The first date of the episode (inclusive).</param>
/// <param name="End">The last date of the episode (inclusive).</param>
/// <param name="Description">Why these dates.</param>
public sealed record CrisisEpisode(string Name, DateOnly Start, DateOnly End, string Description);

/// <summary>
/// Crisis archetypes: the mean condition-feature vector over a documented historical episode, used as a condition
/// ("generate windows like the 2008 crisis") in a stress specification.
/// </summary>
public static class CrisisArchetypes
{
    /// <summary>
    /// The built-in episodes:
    /// <list type="bullet">
    /// <item><c>gfc-2008</c>: 2008-09-15 (Lehman Brothers files for Chapter 11) to 2009-03-09 (the S&amp;P 500's closing
    /// low of the crisis, 676.53).</item>
    /// <item><c>covid-2020</c>: 2020-02-20 (the first session after the S&amp;P 500's record close of 2020-02-19) to
    /// 2020-04-30; it holds the VIX's record close (82.69 on 2020-03-16) and the market low of 2020-03-23, and is the
    /// realised-ES window of the stress acceptance test.</item>
    /// <item><c>rates-2022</c>: 2022-01-03 (first session of 2022, before the Fed's first hike on 2022-03-16) to
    /// 2022-10-24 (the 10-year Treasury yield's 2022 high, 4.25%; the S&amp;P 500's low was 2022-10-12): the joint
    /// stock-and-bond drawdown of the rate shock.</item>
    /// </list>
    /// </summary>
    public static IReadOnlyList<CrisisEpisode> Episodes { get; } =
    [
        new("gfc-2008", new DateOnly(2008, 9, 15), new DateOnly(2009, 3, 9), "Lehman bankruptcy to the S&P 500 low"),
        new("covid-2020", new DateOnly(2020, 2, 20), new DateOnly(2020, 4, 30), "COVID crash: S&P 500 peak to the end of April"),
        new("rates-2022", new DateOnly(2022, 1, 3), new DateOnly(2022, 10, 24), "2022 rate shock: first session of 2022 to the 10-year yield high"),
    ];

    /// <summary>The archetypes of the built-in <see cref="Episodes"/>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Compute(TimeSeriesFrame features) => Compute(features, Episodes);

    /// <summary>
    /// For each episode, the mean of every feature (column) over the rows of <paramref name="features"/> dated within the
    /// episode (inclusive): archetype → feature → value. Non-finite values are skipped; an episode with no rows in the
    /// frame (e.g. a history that ends before it) is left out, as is a feature with no finite value in it. The frame is
    /// used as given: for condition features lagged one day (the row dated d holds the state at the close of d − 1),
    /// the archetype is the mean of what was known on the episode's days.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Compute(TimeSeriesFrame features, IEnumerable<CrisisEpisode> episodes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(episodes);
        if (features.Dates.Length == 0 && features.RowCount > 0)
            throw new InvalidInputException(StressRules.Space, "crisis archetypes need a dated feature frame");
        var result = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var episode in episodes)
        {
            if (episode.End < episode.Start) throw new ArgumentException($"episode {episode.Name} ends before it starts", nameof(episodes));
            int first = features.IndexAtOrBefore(episode.Start.AddDays(-1)) + 1, last = features.IndexAtOrBefore(episode.End);
            if (last < first) continue;
            var vector = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int c = 0; c < features.ColumnCount; c++)
            {
                double sum = 0;
                int n = 0;
                for (int r = first; r <= last; r++)
                {
                    double v = features[r, c];
                    if (!double.IsFinite(v)) continue;
                    sum += v;
                    n++;
                }

                if (n > 0) vector[features.Columns[c]] = sum / n;
            }

            if (vector.Count > 0) result[episode.Name] = vector;
        }

        return result;
    }
}
