using Crucible.Data;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Regimes;
using Crucible.Evaluation.Risk;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation;

/// <summary>
/// Computes the evaluation report (METRICS.md: marginals, dependence, temporal, risk, privacy distances, regimes, and
/// with a train set the linear-forecaster utility) of a synthetic set against a real one. Deterministic: the same input gives the same report whatever
/// the number of threads.
/// </summary>
public static class Evaluator
{
    /// <summary>Length of the VaR backtest window (the Basel 250 trading days).</summary>
    public const int BacktestDays = 250;

    /// <summary>
    /// Evaluates <see cref="EvaluationInput.Synthetic"/> against <see cref="EvaluationInput.Real"/>.
    /// Throws <see cref="InvalidInputException"/> when a set is empty, ragged, non-finite, or the series names differ. The
    /// synthetic and train series are matched to the real ones by name (<see cref="SeriesSet.InOrderOf"/>): the same names
    /// in another order are reordered to the real order, a different set of names is refused (<c>column-mismatch</c>).
    /// </summary>
    public static EvaluationReport Evaluate(EvaluationInput input, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(input.Real, "input.Real");
        ArgumentNullException.ThrowIfNull(input.Synthetic, "input.Synthetic");
        options ??= new EvaluationOptions();
        var (real, synth, train) = (input.Real, input.Synthetic, input.Train);
        real.Validate("real");
        synth.Validate("synthetic");
        train?.Validate("train");
        synth = synth.InOrderOf(real.Names, "synthetic");
        train = train?.InOrderOf(real.Names, "train");
        if (!(options.Alpha is > 0 and < 1)) throw new InvalidInputException("invalid-option", "alpha must be in (0, 1)");
        if (options.Lags < 1) throw new InvalidInputException("invalid-option", "lags must be at least 1");
        if (!(options.TailLevel is > 0 and < 1)) throw new InvalidInputException("invalid-option", "the tail level u must be in (0, 1)");
        if (options.RegimeWindow < 2) throw new InvalidInputException("invalid-option", "the regime window must be at least 2 steps (a volatility needs two returns)");
        if (!(options.RegimePercentile is >= 0 and <= 100)) throw new InvalidInputException("invalid-option", "the regime percentile must be in [0, 100]");
        if (options.HistogramBins < 1) throw new InvalidInputException("invalid-option", "histogram bins must be at least 1");
        if (options.MembershipMaxSynthetic < 1) throw new InvalidInputException("invalid-option", "the attack needs at least one synthetic row");
        if (options.ShadowModels < 1 || options.AttackTargets < 1)
            throw new InvalidInputException("invalid-option", "shadow models and attack targets must be at least 1");
        if (AttributeInference.WhyNot(options.SensitiveColumns, real.Names) is { } badSensitive)
            throw new InvalidInputException("invalid-option", badSensitive);
        // its tolerance is a tenth of the synthetic sensitive series' standard deviation, undefined for one row
        if (options.SensitiveColumns is { Count: > 0 } && train is not null && synth.RowCount < 2)
            throw new InvalidInputException("too-few-rows", $"attribute inference (sensitive series) needs at least 2 synthetic rows; the synthetic set has {synth.RowCount}");
        if (options.LinkabilityColumns?.WhyNot(real.Names) is { } badDatasets)
            throw new InvalidInputException("invalid-option", "linkability: " + badDatasets);
        if (options.LinkabilityNeighbours < 1)
            throw new InvalidInputException("invalid-option", FormattableString.Invariant($"linkability neighbours must be at least 1, got {options.LinkabilityNeighbours}"));
        if (options.Dp is { } dp && !(double.IsFinite(dp.Epsilon) && dp.Epsilon >= 0 && dp.Delta is >= 0 and < 1))
            throw new InvalidInputException("invalid-option", FormattableString.Invariant($"the model's DP statement needs a finite epsilon >= 0 and delta in [0, 1); got epsilon {dp.Epsilon}, delta {dp.Delta}"));
        if (options.UtilityLags < 1 || options.ImportanceRepeats < 1)
            throw new InvalidInputException("invalid-option", "utility lags and importance repeats must be at least 1");
        if (options.PrivacyRows is { } privacyRows && privacyRows < PrivacySubsample.MinimumLimit)
            throw new InvalidInputException("invalid-option", FormattableString.Invariant(
                $"privacy rows must be at least {PrivacySubsample.MinimumLimit} (a nearest other row and a standard deviation need two), got {privacyRows}"));

        var d = real.SeriesCount;
        var weights = options.PortfolioWeights?.ToArray() ?? Enumerable.Repeat(1.0 / d, d).ToArray();
        if (weights.Length != d) throw new InvalidInputException("invalid-option", $"{weights.Length} portfolio weights for {d} series");
        if (weights.Any(w => !double.IsFinite(w)))
            throw new InvalidInputException("invalid-option", "portfolio weights must be finite numbers: " + string.Join(", ", weights.Select(w => w.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
        var cancel = options.Cancellation;
        cancel.ThrowIfCancellationRequested();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancel };
        var realPaths = real.PathRows();
        var synthPaths = synth.PathRows();

        var perSeries = new SeriesReport[d];
        var tailIndicatorsR = new bool[d][];
        var tailIndicatorsS = new bool[d][];
        var histograms = new HistogramPair[d];
        var quantiles = new VectorPair[d];
        var levels = Enumerable.Range(0, 199).Select(i => (i + 1) * 0.5).ToArray();
        // the horizon of the synthetic scenarios (their common length; 1 for rows): real drawdowns are measured over it too
        var horizon = PortfolioHorizon(synth, synthPaths);
        var windowedDrawdowns = synth.ScenarioIds is not null && horizon is not null;
        Parallel.For(0, d, parallel, i =>
        {
            var r = real.Columns[i];
            var s = synth.Columns[i];
            var sortedR = (double[])r.Clone();
            var sortedS = (double[])s.Clone();
            Array.Sort(sortedR);
            Array.Sort(sortedS);
            var (ks, w) = Distances.WalkSorted(sortedR, sortedS);
            tailIndicatorsR[i] = Dependence.TailIndicators(r, sortedR, options.TailLevel);
            tailIndicatorsS[i] = Dependence.TailIndicators(s, sortedS, options.TailLevel);
            var (varR, esR) = RiskMeasures.ValueAtRiskAndExpectedShortfallSorted(sortedR, options.Alpha);
            var (varS, esS) = RiskMeasures.ValueAtRiskAndExpectedShortfallSorted(sortedS, options.Alpha);
            // against scenarios of H steps, the real series' path statistics are those of its H-step windows (stride 1),
            // each computed within its window as within each scenario and averaged over the windows: ACF, ACF of |r|,
            // PACF and leverage (lags ≥ H are NaN on both sides), mean max drawdown and CDaR. The whole real path beside
            // the scenarios' H-step ones compared a long-sample estimate with short-sample ones (a sample ACF within H
            // steps is biased by about −1/H and centred on each window's own mean)
            var tr = PathTemporal(real, i, realPaths, options, windowedDrawdowns ? horizon : null);
            var ts = PathTemporal(synth, i, synthPaths, options);
            perSeries[i] = new SeriesReport(real.Names[i], ks, w,
                new(Descriptive.Mean(r), Descriptive.Mean(s)),
                new(Descriptive.StandardDeviation(r), Descriptive.StandardDeviation(s)),
                new(Descriptive.Skewness(r), Descriptive.Skewness(s)),
                new(Descriptive.ExcessKurtosis(r), Descriptive.ExcessKurtosis(s)),
                new(tr.Acf, ts.Acf), new(tr.AcfAbs, ts.AcfAbs), new(tr.Pacf, ts.Pacf), new(tr.Leverage, ts.Leverage),
                new(varR, varS), new(esR, esS), new(tr.MaxDrawdown, ts.MaxDrawdown),
                new(tr.WindowMaxDrawdowns is { } windows ? RiskMeasures.UpperTailMean(windows, options.Alpha) : Cdar(real, i, realPaths, options.Alpha),
                    Cdar(synth, i, synthPaths, options.Alpha)))
            {
                // a constant window (a flat stretch of a rate at its lower bound, a stale price) no longer makes the
                // series' averages null: it is left out where undefined, and counted here
                TemporalLeftOut = tr.LeftOut + ts.LeftOut > 0 ? new TemporalLeftOut(tr.LeftOut, tr.Windows, ts.LeftOut, ts.Windows) : null,
            };
            histograms[i] = Histogram(sortedR, sortedS, options.HistogramBins);
            quantiles[i] = new(levels.Select(p => Descriptive.SortedPercentile(sortedR, p)).ToArray(),
                levels.Select(p => Descriptive.SortedPercentile(sortedS, p)).ToArray());
        });

        cancel.ThrowIfCancellationRequested();
        var corrR = Dependence.CorrelationMatrix(real.Columns);
        var corrS = Dependence.CorrelationMatrix(synth.Columns);
        var tailR = Dependence.LowerTailDependenceFromIndicators(tailIndicatorsR);
        var tailS = Dependence.LowerTailDependenceFromIndicators(tailIndicatorsS);

        var portR = PortfolioPaths(real, realPaths, weights);
        var portS = PortfolioPaths(synth, synthPaths, weights);
        // the real set is measured at the synthetic horizon H, every H-step window (stride 1) of each real path, as the
        // coverage audit's events and compare's holdout windows: a daily holdout's one-day VaR beside the 20-day VaR of
        // 20-day scenarios compared two different numbers
        var realWindows = horizon is { } h ? HorizonWindows(portR, h) : default;
        var (pVarR, pEsR) = RiskMeasures.ValueAtRiskAndExpectedShortfall(realWindows.Sums ?? Horizon(real, portR), options.Alpha);
        var (pVarS, pEsS) = RiskMeasures.ValueAtRiskAndExpectedShortfall(Horizon(synth, portS), options.Alpha);
        // a scenario set's CDaR is that of its paths' max drawdowns; the real windows' then, not the real path's drawdown series
        var pCdarR = synth.ScenarioIds is not null && realWindows.MaxDrawdowns is { } windowMdd
            ? RiskMeasures.UpperTailMean(windowMdd, options.Alpha)
            : SetCdar(real, portR, options.Alpha);
        var oneDayVar = RiskMeasures.ValueAtRisk(portS.SelectMany(p => p).ToArray(), options.Alpha);
        var realSteps = portR.SelectMany(p => p).ToArray();
        var window = realSteps.AsSpan(Math.Max(0, realSteps.Length - BacktestDays));
        // the last 250 steps are one window of the real period, and can be its calmest: the same VaR is also tested on
        // every real step, and the scenarios' H-step VaR on the real set's non-overlapping H-step windows
        var backtest = new PortfolioBacktest(oneDayVar, VarBacktest.Run(window, oneDayVar, options.Alpha))
        {
            AllDays = DailyBacktest(portR, realSteps, oneDayVar, options.Alpha),
            Horizon = horizon is > 1 and { } hb ? HorizonBacktest(portR, hb, pVarS, options.Alpha) : null,
        };
        var portfolio = new PortfolioReport(weights, new(pVarR, pVarS), new(pEsR, pEsS),
            new(pCdarR, SetCdar(synth, portS, options.Alpha)), backtest) { Horizon = horizon };

        var fit = train is null ? portR : PortfolioPaths(train, train.PathRows(), weights);
        var threshold = RegimeStatistics.FitThreshold(fit, options.RegimeWindow, options.RegimePercentile);
        var regR = RegimeStatistics.Summarise(portR, options.RegimeWindow, threshold);
        var regS = RegimeStatistics.Summarise(portS, options.RegimeWindow, threshold);
        var regimes = new RegimeReport(options.RegimeWindow, options.RegimePercentile, threshold,
            new(regR.HighVolatilityShare, regS.HighVolatilityShare), new(regR.CalmToStressed, regS.CalmToStressed),
            new(regR.StressedToCalm, regS.StressedToCalm))
        {
            // H-step scenarios with an H-step window have no two consecutive windows: say why their rates are null
            TransitionsUnavailable = JoinReasons(RegimeStatistics.WhyNoTransitions("real", portR, options.RegimeWindow),
                RegimeStatistics.WhyNoTransitions("synthetic", portS, options.RegimeWindow)),
        };

        PrivacyReport? privacy = null;
        HistogramPair? dcrHistogram = null;
        if (train is not null)
        {
            cancel.ThrowIfCancellationRequested();
            (privacy, dcrHistogram) = PrivacySection(synth, train, real, options);
        }

        var drawdowns = Histogram(Sorted(portR.SelectMany(p => RiskMeasures.DrawdownSeries(p)).ToArray()),
            Sorted(portS.SelectMany(p => RiskMeasures.DrawdownSeries(p)).ToArray()), options.HistogramBins);

        cancel.ThrowIfCancellationRequested();
        Utility.UtilityReport? utility = null;
        string? utilitySkipped = null;
        if (train is not null && options.Utility)
        {
            utilitySkipped = Utility.UtilityEvaluation.WhyNot(train, synth, real, options.UtilityLags);
            if (utilitySkipped is null)
                utility = Utility.UtilityEvaluation.Evaluate(train, synth, real, options.UtilityLags, options.ImportanceRepeats, options.Seed,
                    options.MaxDegreeOfParallelism);
        }

        cancel.ThrowIfCancellationRequested();
        var coverage = options.Segments is null ? null : Coverage.CoverageAudit.Run(real, synth, options.Segments);
        var ks = perSeries.Select(p => p.Ks).ToArray();
        return new EvaluationReport(
            (string[])real.Names.Clone(), options.Alpha, options.Lags, options.TailLevel,
            Summation.Sum(ks) / d, ks.Max(), Summation.Sum(perSeries.Select(p => p.Wasserstein).ToArray()) / d,
            Dependence.CorrelationDistance(corrR, corrS), new(tailR, tailS), new(corrR, corrS), perSeries,
            portfolio, regimes, privacy,
            new RowCounts(real.RowCount, synth.RowCount, train?.RowCount, realPaths.Count, synthPaths.Count),
            new ChartData(histograms, levels, quantiles, drawdowns, dcrHistogram)) {
                Utility = utility, UtilitySkipped = utilitySkipped, Coverage = coverage,
                // a set too small for its metrics is evaluated with a warning (SampleSize), in every report: the library's,
                // the CLI's and the service's bytes agree (RELIABILITY MRM-9)
                // so is a series that looks like prices or levels, not returns (PriceLikeSeries), a set whose paths are
                // too short for regime transitions (RegimeStatistics.WhyNoTransitions), and an mse_ratio with nothing to
                // divide by (UtilityEvaluation.Warnings)
                Warnings = [.. SampleSize.Warnings(real, synth, options.Alpha), .. PriceLikeSeries.Warnings(real, synth, train),
                    .. realWindows.Sums is { Length: 0 }
                        ? [string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"the real set has no path of {horizon} steps, the synthetic scenarios' horizon: the real portfolio VaR, ES and CDaR and each real series' acf, acf_abs, pacf, leverage, max_drawdown and cdar are undefined (null)")]
                        : Array.Empty<string>(),
                    .. horizon is null
                        ? [string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"the synthetic scenarios have several lengths ({synthPaths.Min(p => p.Length)} to {synthPaths.Max(p => p.Length)} steps), so there is no one horizon: the real portfolio VaR, ES and CDaR are one-step figures and each real series' drawdowns and serial statistics those of its whole paths, beside the scenarios' whole-path figures of different horizons; cut the scenarios to one length")]
                        : Array.Empty<string>(),
                    .. regimes.TransitionsUnavailable is { } noTransitions ? [noTransitions] : Array.Empty<string>(),
                    .. TemporalLeftOut.Warning(perSeries, horizon, windowedDrawdowns) is { } leftOut ? [leftOut] : Array.Empty<string>(),
                    .. Utility.UtilityEvaluation.Warnings(utility)],
            };
    }

    // WindowMaxDrawdowns: with a window, each window's max drawdown in window order (their upper-tail mean is the CDaR)
    // Windows: the paths or windows averaged over; LeftOut: those undefined at some lag in range, left out there
    private sealed record TemporalStats(double[] Acf, double[] AcfAbs, double[] Pacf, double[] Leverage, double MaxDrawdown, double[]? WindowMaxDrawdowns,
        int Windows, int LeftOut);

    // the privacy section (RELIABILITY.md PRIV-1..9) and its DCR histogram; with options.PrivacyRows, on at most that many
    // rows of each set drawn uniformly without replacement (PrivacySubsample), and the record of the draw
    private static (PrivacyReport Privacy, HistogramPair Histogram) PrivacySection(SeriesSet synthAll, SeriesSet trainAll, SeriesSet realAll,
        EvaluationOptions options)
    {
        var cancel = options.Cancellation;
        var drawn = options.PrivacyRows is { } limit ? PrivacySubsample.Of(synthAll, trainAll, realAll, limit, options.Seed) : null;
        var (synth, train, real) = drawn is null ? (synthAll, trainAll, realAll) : (drawn.Synthetic, drawn.Train, drawn.Holdout);
        // the outlier analysis needs each train row's nearest synthetic row (the DCR's search finds it in the same pass)
        // and nearest holdout row; with a holdout no larger than train the audit's holdout subset is the whole holdout,
        // and its NNDR takes the nearest two in holdout of the synthetic and train rows from the same searches
        // the DOMIAS fit's own rows (its split for the seed) must have some spread, not only the whole sets
        var domiasWhyNot = MembershipInference.WhyNot(synth, train, real, options.Seed, options.MembershipMaxSynthetic);
        var outliers = options.OutlierRisk && train.RowCount >= 2 && domiasWhyNot is null;
        var dcr = DistanceToClosestRecord.Search(synth, train, real, outliers, real.RowCount <= train.RowCount, options.MaxDegreeOfParallelism);
        var (toTrain, toHoldout) = (dcr.ToTrain, dcr.ToHoldout);
        var privacy = DistanceToClosestRecord.Summarise(toTrain, toHoldout);
        // windows are cut from the sets given (drawn rows are no path), at most the limit of each set's windows drawn
        var pathLength = DistanceToClosestRecord.CommonPathLength(synthAll);
        if (pathLength >= 2 && HasWindow(trainAll, pathLength) && HasWindow(realAll, pathLength))
        {
            var (wTrain, wHoldout, counts) = DistanceToClosestRecord.ScaledWindowDistances(synthAll, trainAll, realAll, pathLength,
                DistanceToClosestRecord.TrainScale(train), drawn is null ? null : (drawn.Record.Limit, options.Seed), options.MaxDegreeOfParallelism);
            privacy = privacy with
            {
                Windows = new WindowPrivacyReport(pathLength, DistanceToClosestRecord.Summarise(wTrain, wHoldout)),
            };
            if (drawn is not null) drawn = drawn with { Record = drawn.Record with { Windows = counts } };
        }
        cancel.ThrowIfCancellationRequested();
        // the DOMIAS densities and non-member scores, fitted once for the attack and the isolated records' scores
        DomiasFit? domias = null;
        DomiasFit Domias() => domias ??= MembershipInference.Fit(synth, train, real, options.Seed, options.MembershipMaxSynthetic, options.MaxDegreeOfParallelism);
        if (options.MembershipInference)
        {
            var why = domiasWhyNot;
            privacy = privacy with
            {
                MembershipSkipped = why,
                Membership = why is null ? Domias().Report() : null,
            };
        }
        cancel.ThrowIfCancellationRequested();
        privacy = privacy with
        {
            // the holdout's hash is the whole holdout's (its file's, else its values')
            Audit = PrivacyAudit.Run(synth, train, real, options.Seed, options.HoldoutSha256, options.MaxDegreeOfParallelism, dcr, realAll),
        };
        var (trainToSynthetic, trainToHoldout) = (dcr.TrainToSynthetic, dcr.TrainToHoldout);
        cancel.ThrowIfCancellationRequested();
        privacy = Attacks(privacy, synth, train, real, options, Domias, trainToSynthetic, trainToHoldout);
        privacy = Gates(privacy, options.Dp);
        if (drawn is not null)
        {
            // an isolated record is named by its row in the whole train set
            if (privacy.OutlierRisk is { } risk)
                privacy = privacy with { OutlierRisk = risk with { Records = [.. risk.Records.Select(r => r with { TrainRow = drawn.TrainRows[r.TrainRow] })] } };
            privacy = privacy with { Subsample = drawn.Record };
        }
        return (privacy, Histogram(Sorted(toTrain), Sorted(toHoldout), options.HistogramBins));
    }

    // the shadow-model, attribute-inference, singling-out, linkability and isolated-record analyses (RELIABILITY.md PRIV-6..8)
    // domias: the DOMIAS attack fitted for options.Seed and options.MembershipMaxSynthetic (shared with privacy.membership_inference);
    // trainToSynthetic, trainToHoldout: each train row's nearest synthetic and holdout distances from the DCR's search,
    // given when (and only when) the isolated-record analysis runs
    private static PrivacyReport Attacks(PrivacyReport privacy, SeriesSet synth, SeriesSet train, SeriesSet real, EvaluationOptions options,
        Func<DomiasFit> domias, double[]? trainToSynthetic, double[]? trainToHoldout)
    {
        var dop = options.MaxDegreeOfParallelism;
        if (options.ShadowGenerator is { } generator)
        {
            var why = ShadowModelAttack.WhyNot(synth, train, real);
            privacy = privacy with
            {
                ShadowSkipped = why,
                Shadow = why is null
                    ? ShadowModelAttack.Run(synth, train, real, generator, options.ShadowModels, options.Seed, options.AttackTargets, maxDegreeOfParallelism: dop)
                    : null,
            };
        }
        options.Cancellation.ThrowIfCancellationRequested();
        if (options.SensitiveColumns is { Count: > 0 } sensitive)
        {
            privacy = privacy with
            {
                AttributeInference = [.. sensitive.Select(c => AttributeInference.Run(synth, train, real, Array.IndexOf(real.Names, c), options.Seed,
                    options.AttackTargets, maxDegreeOfParallelism: dop))],
            };
        }
        options.Cancellation.ThrowIfCancellationRequested();
        if (options.SinglingOut)
        {
            // both modes read the same distinct rows: the sets are reduced (hashed) once
            var distinct = SinglingOut.Distinct.Of(synth, train, real);
            privacy = privacy with
            {
                SinglingOut = [.. new[] { SinglingOutMode.Univariate, SinglingOutMode.Multivariate }.Select(mode =>
                    SinglingOut.Run(distinct, mode, options.Seed, options.AttackTargets, maxDegreeOfParallelism: dop))],
            };
        }
        options.Cancellation.ThrowIfCancellationRequested();
        if (options.Linkability)
        {
            if (real.SeriesCount < 2)
            {
                privacy = privacy with { LinkabilitySkipped = "one series: the attacker's two datasets need a series each" };
            }
            else
            {
                var (first, second) = options.LinkabilityColumns?.Indices(real.Names) ?? Linkability.DefaultSplit(real.SeriesCount);
                privacy = privacy with
                {
                    Linkability = Linkability.Run(synth, train, real, first, second, options.Seed, options.AttackTargets,
                        Math.Min(options.LinkabilityNeighbours, synth.RowCount), dop),
                };
            }
        }
        options.Cancellation.ThrowIfCancellationRequested();
        if (trainToSynthetic is not null)
        {
            privacy = privacy with
            {
                OutlierRisk = OutlierRisk.Run(synth, train, real, options.Seed, OutlierRisk.DefaultFraction, options.MembershipMaxSynthetic, dop, domias(),
                    trainToSynthetic, trainToHoldout),
            };
        }
        return privacy;
    }

    // RELIABILITY.md PRIV-7: each membership attack's gate (chance bound, and DP-12 with the model's ε), a failed gate a
    // privacy warning beside the DCR share's (privacy.warnings)
    private static PrivacyReport Gates(PrivacyReport privacy, DpGuarantee? dp)
    {
        var warnings = new List<string>();
        if (privacy.Membership is { Members: > 0 } mia)
        {
            var gate = MembershipGate.Check(mia.Members, mia.NonMembers, mia.TprAtFpr10, mia.TprAtFpr01, dp);
            privacy = privacy with { Membership = mia with { Gate = gate } };
            if (gate.Warning(mia.Attack, mia.TprAtFpr10, mia.TprAtFpr01) is { } w) warnings.Add(w);
        }
        if (privacy.Shadow is { Members: > 0 } sh)
        {
            var gate = MembershipGate.Check(sh.Members, sh.NonMembers, sh.TprAtFpr10, sh.TprAtFpr01, dp);
            privacy = privacy with { Shadow = sh with { Gate = gate } };
            if (gate.Warning(sh.Attack, sh.TprAtFpr10, sh.TprAtFpr01) is { } w) warnings.Add(w);
        }
        if (warnings.Count > 0 && privacy.Audit is { } audit)
            privacy = privacy with { Audit = audit with { Warnings = [.. audit.Warnings, .. warnings] } };
        return privacy;
    }

    private static string? JoinReasons(string? first, string? second) =>
        first is null ? second : second is null ? first : first + "; " + second;

    private static bool HasWindow(SeriesSet set, int window) => set.PathRows().Any(p => p.Length >= window);

    /// <remarks>With <paramref name="window"/>, the statistics of every window of that many steps (stride 1) of each path,
    /// averaged over the windows (a path shorter than it has none; no window at all gives NaN), and each window's max
    /// drawdown kept for the CDaR. A window's ACF, ACF of |r|, PACF or leverage that is undefined at a lag its length
    /// allows (a constant window, a constant side of the leverage pairs, a singular Yule–Walker system) is left out of
    /// that lag's mean, and the window is counted in <see cref="TemporalStats.LeftOut"/>; the lag is NaN only when no
    /// window defines it. A lag beyond a window's length (<see cref="InRange"/>) is NaN for the set, as before.</remarks>
    private static TemporalStats PathTemporal(SeriesSet set, int series, IReadOnlyList<int[]> paths, EvaluationOptions options, int? window = null)
    {
        var lags = options.Lags;
        var acf = new LagMean(lags);
        var acfAbs = new LagMean(lags);
        var pacf = new LagMean(lags);
        var lev = new LagMean(lags);
        double mdd = 0;
        var k = 0;
        var leftOut = 0;
        var windowMdd = window is null ? null : new List<double>();
        foreach (var rows in paths)
        {
            var path = set.Gather(series, rows);
            var abs = new double[path.Length];
            for (var t = 0; t < path.Length; t++) abs[t] = Math.Abs(path[t]);
            var h = window ?? path.Length;
            for (var start = 0; start + h <= path.Length; start++)
            {
                var x = path.AsSpan(start, h);
                // each Add says whether the window was undefined at a lag its length allows (it is then left out there)
                var undefined = acf.Add(Temporal.Autocorrelation(x, lags), h, leverage: false);
                undefined |= acfAbs.Add(Temporal.Autocorrelation(abs.AsSpan(start, h), lags), h, leverage: false);
                undefined |= pacf.Add(Temporal.PartialAutocorrelation(x, lags), h, leverage: false);
                undefined |= lev.Add(Temporal.Leverage(x, lags), h, leverage: true);
                if (undefined) leftOut++;
                var m = RiskMeasures.MaxDrawdown(x);
                mdd += m;
                windowMdd?.Add(m);
                k++;
            }
        }
        return new TemporalStats(acf.Mean(), acfAbs.Mean(), pacf.Mean(), lev.Mean(), mdd / k, windowMdd?.ToArray(), k, leftOut);
    }

    /// <summary>
    /// Whether lag <paramref name="lag"/> is within what a window of <paramref name="length"/> steps defines: lag &lt; n for
    /// the ACF and PACF, n − lag ≥ 2 pairs for the leverage correlation (<see cref="Temporal"/>).
    /// </summary>
    internal static bool InRange(int lag, int length, bool leverage) => leverage ? length - lag >= 2 : lag < length;

    /// <summary>
    /// A per-lag mean over windows: a value undefined (not finite) at a lag <see cref="InRange"/> for its window is left
    /// out of that lag's sum and count; one out of range makes the lag NaN (NaN propagates, as a plain mean). With no
    /// value left out the sum and the count are those of the plain mean, so its figures are bit for bit the same.
    /// </summary>
    private sealed class LagMean(int lags)
    {
        private readonly double[] _sum = new double[lags];
        private readonly int[] _count = new int[lags];

        /// <summary>Adds one window's values (index 0 is lag 1); true when one was undefined at a lag in range.</summary>
        public bool Add(double[] values, int length, bool leverage)
        {
            var undefined = false;
            for (var i = 0; i < _sum.Length; i++)
            {
                var v = values[i];
                if (!double.IsFinite(v) && InRange(i + 1, length, leverage))
                {
                    undefined = true;
                    continue;
                }
                _sum[i] += v;
                _count[i]++;
            }
            return undefined;
        }

        /// <summary>Sum / count per lag; NaN where no window defines the lag.</summary>
        public double[] Mean()
        {
            var mean = new double[_sum.Length];
            for (var i = 0; i < mean.Length; i++) mean[i] = _count[i] == 0 ? double.NaN : _sum[i] / _count[i];
            return mean;
        }
    }

    private static double Cdar(SeriesSet set, int series, IReadOnlyList<int[]> paths, double alpha) =>
        set.ScenarioIds is null
            ? RiskMeasures.ConditionalDrawdownAtRisk(set.Columns[series], alpha)
            : RiskMeasures.ConditionalDrawdownAtRisk(paths.Select(rows => set.Gather(series, rows)).ToArray(), alpha);

    private static double SetCdar(SeriesSet set, IReadOnlyList<double[]> portfolioPaths, double alpha) =>
        set.ScenarioIds is null
            ? RiskMeasures.ConditionalDrawdownAtRisk(portfolioPaths[0], alpha)
            : RiskMeasures.ConditionalDrawdownAtRisk(portfolioPaths, alpha);

    private static double[][] PortfolioPaths(SeriesSet set, IReadOnlyList<int[]> paths, double[] weights) =>
        paths.Select(rows => RiskMeasures.PortfolioLogReturns(
            Enumerable.Range(0, set.SeriesCount).Select(i => set.Gather(i, rows)).ToArray(), weights)).ToArray();

    /// <summary>The synthetic set's horizon: its scenarios' common length, 1 without scenario ids (rows), null when its
    /// scenarios have several lengths.</summary>
    private static int? PortfolioHorizon(SeriesSet synth, IReadOnlyList<int[]> paths) =>
        synth.ScenarioIds is null ? 1 : paths.All(p => p.Length == paths[0].Length) ? paths[0].Length : null;

    /// <summary>
    /// Every <paramref name="h"/>-step window (stride 1) of each portfolio path: its horizon log return (the sum of its
    /// steps, in step order, as a scenario's) and its max drawdown. A path shorter than h has none.
    /// </summary>
    internal static (double[]? Sums, double[]? MaxDrawdowns) HorizonWindows(IReadOnlyList<double[]> paths, int h)
    {
        var sums = new List<double>();
        var mdd = new List<double>();
        foreach (var path in paths)
        {
            for (var start = 0; start + h <= path.Length; start++)
            {
                var steps = path.AsSpan(start, h);
                double sum = 0;
                foreach (var p in steps) sum += p;
                sums.Add(sum);
                mdd.Add(RiskMeasures.MaxDrawdown(steps));
            }
        }

        return ([.. sums], [.. mdd]);
    }

    /// <summary>
    /// The one-day VaR on every real step (<paramref name="steps"/>: the paths' steps in order), with Christoffersen's
    /// tests on the transitions within each path (<see cref="DailyVarBacktest"/>).
    /// </summary>
    internal static DailyVarBacktest DailyBacktest(IReadOnlyList<double[]> paths, double[] steps, double valueAtRisk, double alpha)
    {
        var exceptions = paths.Select(p => p.Select(r => VarBacktest.IsException(r, valueAtRisk)).ToArray()).ToArray();
        var christoffersen = paths.Any(p => p.Length >= 2) ? VarBacktest.Christoffersen(exceptions, alpha) : null;
        return new DailyVarBacktest(VarBacktest.Run(steps, valueAtRisk, alpha), christoffersen, paths.Count);
    }

    /// <summary>
    /// The H-step VaR <paramref name="valueAtRisk"/> on the non-overlapping <paramref name="h"/>-step windows of each
    /// real portfolio path, from its first step (<see cref="HorizonVarBacktest"/>); null when no path has h steps.
    /// </summary>
    internal static HorizonVarBacktest? HorizonBacktest(IReadOnlyList<double[]> paths, int h, double valueAtRisk, double alpha)
    {
        int n = 0, x = 0;
        foreach (var path in paths)
        {
            for (var start = 0; start + h <= path.Length; start += h)
            {
                // the window's horizon log return, its steps summed in order as a scenario's (Horizon)
                double sum = 0;
                foreach (var p in path.AsSpan(start, h)) sum += p;
                n++;
                if (VarBacktest.IsException(sum, valueAtRisk)) x++;
            }
        }

        if (n == 0) return null;
        var lr = VarBacktest.KupiecStatistic(x, n, alpha);
        return new HorizonVarBacktest(h, valueAtRisk, n, x, lr, VarBacktest.ChiSquareOneSurvival(lr),
            VarBacktest.BinomialCdf(x, n, 1 - alpha), VarBacktest.BinomialUpperTail(x, n, 1 - alpha));
    }

    /// <summary>Scenario horizon returns (sum of a path's steps) with scenarios; every step (one-step horizon) without.</summary>
    private static double[] Horizon(SeriesSet set, IReadOnlyList<double[]> portfolioPaths) =>
        set.ScenarioIds is null ? portfolioPaths[0] : portfolioPaths.Select(p => p.Sum()).ToArray();

    private static double[] Sorted(double[] values)
    {
        Array.Sort(values);
        return values;
    }

    /// <summary>
    /// Histograms of two sorted samples over shared bins spanning from the lower of their 0.1st percentiles to the
    /// higher of their 99.9th percentiles, so that a few extreme values do not squash the chart; values outside
    /// that range are not counted.
    /// </summary>
    private static HistogramPair Histogram(double[] sortedA, double[] sortedB, int bins)
    {
        var lo = Math.Min(Descriptive.SortedPercentile(sortedA, 0.1), Descriptive.SortedPercentile(sortedB, 0.1));
        var hi = Math.Max(Descriptive.SortedPercentile(sortedA, 99.9), Descriptive.SortedPercentile(sortedB, 99.9));
        if (!(hi > lo)) hi = lo + 1;
        var edges = new double[bins + 1];
        for (var k = 0; k <= bins; k++) edges[k] = lo + (hi - lo) * k / bins;
        return new HistogramPair(edges, Count(sortedA, lo, hi, bins), Count(sortedB, lo, hi, bins));
    }

    private static int[] Count(double[] values, double lo, double hi, int bins)
    {
        var counts = new int[bins];
        foreach (var v in values)
        {
            if (v < lo || v > hi) continue;
            var k = (int)((v - lo) / (hi - lo) * bins);
            counts[Math.Min(k, bins - 1)]++;
        }
        return counts;
    }
}
