using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data.IO;
using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Risk;

namespace Crucible.Evaluation.Reporting;

/// <summary>
/// Writes <see cref="EvaluationReport"/> as <c>report.json</c>: keys in a fixed order with eval_ref.py's names first
/// (<c>columns, alpha, ks_mean, ks_max, wasserstein_mean, corr_distance, lower_tail_dependence, per_series, privacy</c>),
/// then the extra sections (<c>correlation, portfolio, regimes, rows</c>, <c>utility</c> with a train set, <c>coverage</c>
/// with declared segments, and <c>thresholds</c> when verdicts are given). Doubles are written
/// culture-invariantly in shortest round-trip form; NaN and ±∞ (JSON has no such numbers) are written as <c>null</c>.
/// </summary>
public static class ReportJson
{
    /// <summary>Writes the report atomically: to a temporary file beside <paramref name="path"/>, flushed, then renamed over it.</summary>
    public static void Write(EvaluationReport report, string path, IReadOnlyList<ThresholdVerdict>? verdicts = null, IReadOnlyList<ReportSection>? sections = null)
    {
        AtomicFile.WriteAllText(path, ToJson(report, verdicts, sections));
    }

    /// <summary>
    /// The report as indented JSON text (LF line ends, trailing newline). With <paramref name="verdicts"/>, a final
    /// <c>thresholds</c> section: <c>{"passed": all passed, "verdicts": [{"key", "bound": "max"|"min", "limit",
    /// "value", "passed"}]}</c>. Each of <paramref name="sections"/> follows as its key and JSON value; a section whose key
    /// is one of the report's own (or an earlier section's) is an <see cref="ArgumentException"/>.
    /// </summary>
    public static string ToJson(EvaluationReport report, IReadOnlyList<ThresholdVerdict>? verdicts = null, IReadOnlyList<ReportSection>? sections = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteStartArray("columns");
            foreach (var c in report.Columns) w.WriteStringValue(c);
            w.WriteEndArray();
            Number(w, "alpha", report.Alpha);
            Number(w, "ks_mean", report.KsMean);
            Number(w, "ks_max", report.KsMax);
            Number(w, "wasserstein_mean", report.WassersteinMean);
            Number(w, "corr_distance", report.CorrDistance);
            Matrices(w, "lower_tail_dependence", report.LowerTailDependence);
            w.WriteStartObject("per_series");
            foreach (var s in report.PerSeries)
            {
                w.WriteStartObject(s.Name);
                Number(w, "ks", s.Ks);
                Number(w, "wasserstein", s.Wasserstein);
                PairValue(w, "mean", s.Mean);
                PairValue(w, "std", s.Std);
                PairValue(w, "skewness", s.Skewness);
                PairValue(w, "excess_kurtosis", s.ExcessKurtosis);
                Vectors(w, "acf", s.Acf);
                Vectors(w, "acf_abs", s.AcfAbs);
                PairValue(w, "var", s.Var);
                PairValue(w, "es", s.Es);
                PairValue(w, "max_drawdown", s.MaxDrawdown);
                Vectors(w, "pacf", s.Pacf);
                Vectors(w, "leverage", s.Leverage);
                PairValue(w, "cdar", s.Cdar);
                if (s.TemporalLeftOut is { } left)
                {
                    w.WriteStartObject("temporal_left_out");
                    w.WriteNumber("real", left.Real);
                    w.WriteNumber("real_windows", left.RealWindows);
                    w.WriteNumber("synthetic", left.Synthetic);
                    w.WriteNumber("synthetic_windows", left.SyntheticWindows);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (report.Privacy is { } p)
            {
                w.WriteStartObject("privacy");
                Dcr(w, p);
                if (p.Membership is { } mia)
                {
                    AttackStart(w, "membership_inference", mia.Attack, mia.Auc, mia.TprAtFpr10, mia.TprAtFpr01);
                    w.WriteNumber("members", mia.Members);
                    w.WriteNumber("non_members", mia.NonMembers);
                    w.WriteNumber("reference", mia.Reference);
                    w.WriteNumber("synthetic_used", mia.SyntheticUsed);
                    Gate(w, mia.Gate);
                    Provenance(w, p, Privacy.PrivacyAudit.MembershipThreatModel);
                    w.WriteEndObject();
                }
                else if (p.MembershipSkipped is { } why) Skipped(w, "membership_inference", why);
                Attacks(w, p);
                if (p.Audit is { } audit) Audit(w, audit, p);
                if (p.Windows is { } win)
                {
                    w.WriteStartObject("windows");
                    w.WriteNumber("window", win.Window);
                    Dcr(w, win.Dcr);
                    w.WriteEndObject();
                }
                if (p.Subsample is { } sub) Subsample(w, sub);
                w.WriteEndObject();
            }
            Number(w, "tail_level", report.TailLevel);
            w.WriteNumber("lags", report.Lags);
            Matrices(w, "correlation", report.Correlation);
            w.WriteStartObject("portfolio");
            Array(w, "weights", report.Portfolio.Weights);
            if (report.Portfolio.Horizon is { } horizon) w.WriteNumber("horizon", horizon);
            PairValue(w, "var", report.Portfolio.Var);
            PairValue(w, "es", report.Portfolio.Es);
            PairValue(w, "cdar", report.Portfolio.Cdar);
            var bt = report.Portfolio.Backtest;
            w.WriteStartObject("backtest");
            Number(w, "var", bt.ValueAtRisk);
            w.WriteNumber("observations", bt.Result.Observations);
            w.WriteNumber("exceptions", bt.Result.Exceptions);
            Number(w, "kupiec_lr", bt.Result.KupiecStatistic);
            Number(w, "kupiec_p_value", bt.Result.KupiecPValue);
            w.WriteString("traffic_light", bt.Result.Zone.WireName());
            // the zones the light was read from, spelled as the backtest command's zone_bounds (BacktestJson)
            ZoneBounds(w, Risk.VarBacktest.Bounds(bt.Result.Observations, report.Alpha));
            w.WriteEndObject();
            if (bt.AllDays is { } all) AllDaysBacktest(w, bt.ValueAtRisk, all, report.Alpha);
            if (bt.Horizon is { } hb) HorizonBacktest(w, hb, report.Alpha);
            w.WriteEndObject();
            w.WriteStartObject("regimes");
            w.WriteNumber("window", report.Regimes.Window);
            Number(w, "percentile", report.Regimes.Percentile);
            Number(w, "threshold", report.Regimes.Threshold);
            PairValue(w, "high_vol_share", report.Regimes.HighVolatilityShare);
            PairValue(w, "calm_to_stressed", report.Regimes.CalmToStressed);
            PairValue(w, "stressed_to_calm", report.Regimes.StressedToCalm);
            // only when a set's paths are no longer than the window (a report with countable transitions keeps its bytes)
            if (report.Regimes.TransitionsUnavailable is { } noTransitions) w.WriteString("transitions_unavailable", noTransitions);
            w.WriteEndObject();
            w.WriteStartObject("rows");
            w.WriteNumber("real", report.Rows.Real);
            w.WriteNumber("synthetic", report.Rows.Synthetic);
            if (report.Rows.Train is { } t) w.WriteNumber("train", t);
            w.WriteNumber("real_paths", report.Rows.RealPaths);
            w.WriteNumber("synthetic_paths", report.Rows.SyntheticPaths);
            w.WriteEndObject();
            if (report.Utility is { } u) UtilitySection(w, u);
            else if (report.UtilitySkipped is { } why) Skipped(w, "utility", why);
            if (report.Coverage is { } coverage) CoverageSection(w, coverage);
            if (report.Warnings.Count > 0)
            {
                w.WriteStartArray("warnings");
                foreach (var warning in report.Warnings) w.WriteStringValue(warning);
                w.WriteEndArray();
            }

            if (verdicts is not null) Thresholds(w, verdicts);
            // a section's key may not be one the report (or an earlier section) has written: the JSON would hold it twice
            var taken = sections is { Count: > 0 } ? WrittenKeys(w, buffer) : [];
            foreach (var section in sections ?? [])
            {
                section.Validate();
                if (!taken.Add(section.Key))
                    throw new ArgumentException($"report section key '{section.Key}' is already a key of the report (or of an earlier section)", nameof(sections));
                w.WritePropertyName(section.Key);
                using var value = JsonDocument.Parse(section.Json);
                value.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    // the top-level keys of the report written so far (its object still open)
    private static HashSet<string> WrittenKeys(Utf8JsonWriter w, MemoryStream buffer)
    {
        w.Flush();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), isFinalBlock: false, state: default);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1) keys.Add(reader.GetString()!);
        }

        return keys;
    }

    private static void UtilitySection(Utf8JsonWriter w, Utility.UtilityReport u)
    {
        w.WriteStartObject("utility");
        w.WriteNumber("lags", u.Lags);
        w.WriteNumber("repeats", u.Repeats);
        w.WriteStartObject("samples");
        w.WriteNumber("synthetic", u.SyntheticSamples);
        w.WriteNumber("train", u.TrainSamples);
        w.WriteNumber("real", u.RealSamples);
        w.WriteEndObject();
        foreach (var (name, t) in new[] { ("return", u.Return), ("volatility", u.Volatility) })
        {
            w.WriteStartObject(name);
            foreach (var (kind, score) in new[] { ("tstr", t.Tstr), ("trtr", t.Trtr), ("trts", t.Trts) })
            {
                w.WriteStartObject(kind);
                Number(w, "r2", score.R2);
                Number(w, "mse", score.Mse);
                w.WriteEndObject();
            }
            Number(w, "mse_ratio", t.MseRatio);
            Number(w, "r2_ratio", t.R2Ratio);
            w.WriteStartObject("importance");
            Array(w, "tstr", t.ImportanceTstr);
            Array(w, "trtr", t.ImportanceTrtr);
            Number(w, "spearman", t.ImportanceSpearman);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    // the per-segment coverage audit: {"tolerance", "horizon", "levels", "under_stressed": ["dimension=segment", …],
    // "segments": [{"dimension", "segment", "series", "events": {"real", "synthetic"}, "under_stressed",
    // "levels": [{"level", "threshold", "tail_frequency": [real, synthetic], "es": [real, synthetic], "under_stressed"}]}],
    // "unassigned": {"dimension": [series…]}, "ignored": {"dimension": [series…]}, "warnings": [text…]}
    private static void CoverageSection(Utf8JsonWriter w, Coverage.CoverageReport c)
    {
        w.WriteStartObject("coverage");
        Number(w, "tolerance", c.Tolerance);
        w.WriteNumber("horizon", c.Horizon);
        Array(w, "levels", [.. Coverage.CoverageAudit.Levels]);
        w.WriteStartArray("under_stressed");
        foreach (var s in c.UnderStressed) w.WriteStringValue(s.Dimension + "=" + s.Segment);
        w.WriteEndArray();
        w.WriteStartArray("segments");
        foreach (var s in c.Segments)
        {
            w.WriteStartObject();
            w.WriteString("dimension", s.Dimension);
            w.WriteString("segment", s.Segment);
            w.WriteStartArray("series");
            foreach (var name in s.Series) w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteStartObject("events");
            w.WriteNumber("real", s.RealEvents);
            w.WriteNumber("synthetic", s.SyntheticEvents);
            w.WriteEndObject();
            w.WriteBoolean("under_stressed", s.UnderStressed);
            w.WriteStartArray("levels");
            foreach (var l in s.Levels)
            {
                w.WriteStartObject();
                Number(w, "level", l.Level);
                Number(w, "threshold", l.Threshold);
                PairValue(w, "tail_frequency", l.TailFrequency);
                PairValue(w, "es", l.Es);
                w.WriteBoolean("under_stressed", l.UnderStressed);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        SeriesByDimension(w, "unassigned", c.Unassigned);
        SeriesByDimension(w, "ignored", c.Ignored);
        w.WriteStartArray("warnings");
        foreach (var warning in c.Warnings) w.WriteStringValue(warning);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    // coverage's unassigned and ignored: {"DIMENSION": ["series", ...], ...} in the audit's order
    private static void SeriesByDimension(Utf8JsonWriter w, string key, IReadOnlyList<KeyValuePair<string, string[]>> byDimension)
    {
        w.WriteStartObject(key);
        foreach (var (dimension, series) in byDimension)
        {
            w.WriteStartArray(dimension);
            foreach (var name in series) w.WriteStringValue(name);
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void Thresholds(Utf8JsonWriter w, IReadOnlyList<ThresholdVerdict> verdicts)
    {
        w.WriteStartObject("thresholds");
        w.WriteBoolean("passed", ThresholdCheck.AllPassed(verdicts));
        w.WriteStartArray("verdicts");
        foreach (var v in verdicts)
        {
            w.WriteStartObject();
            w.WriteString("key", v.Threshold.Key);
            w.WriteString("bound", v.Threshold.Kind == ThresholdKind.Max ? "max" : "min");
            Number(w, "limit", v.Threshold.Limit);
            Number(w, "value", v.Actual);
            w.WriteBoolean("passed", v.Passed);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A double in JSON form: shortest round-trip, invariant culture; null for NaN and ±∞.</summary>
    public static string FormatNumber(double value) =>
        double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "null";

    // the distance-to-closest-record summary, for rows (privacy.*) and for windows (privacy.windows.*)
    private static void Dcr(Utf8JsonWriter w, PrivacyReport p)
    {
        Number(w, "dcr_train_median", p.DcrTrainMedian);
        Number(w, "dcr_train_p05", p.DcrTrainP05);
        Number(w, "dcr_holdout_median", p.DcrHoldoutMedian);
        Number(w, "share_closer_to_train", p.ShareCloserToTrain);
    }

    // privacy.subsample, when the section was measured on drawn rows: the limit, the seed and stream, each set's rows given
    // and drawn (and its windows, when the window DCR ran), and what that means for reading the section
    private static void Subsample(Utf8JsonWriter w, Privacy.PrivacySubsample sub)
    {
        static void Count(Utf8JsonWriter w, string name, Privacy.SubsampleCount c, string unit)
        {
            w.WriteStartObject(name);
            w.WriteNumber(unit, c.Rows);
            w.WriteNumber("drawn", c.Drawn);
            w.WriteEndObject();
        }

        w.WriteStartObject("subsample");
        w.WriteNumber("limit", sub.Limit);
        w.WriteNumber("seed", sub.Seed);
        w.WriteNumber("stream", Privacy.PrivacySubsample.Stream);
        Count(w, "train", sub.Train, "rows");
        Count(w, "holdout", sub.Holdout, "rows");
        Count(w, "synthetic", sub.Synthetic, "rows");
        if (sub.Windows is { } win)
        {
            w.WriteStartObject("windows");
            Count(w, "train", win.Train, "windows");
            Count(w, "holdout", win.Holdout, "windows");
            Count(w, "synthetic", win.Synthetic, "windows");
            w.WriteEndObject();
        }
        w.WriteString("note", Privacy.PrivacySubsample.Note);
        w.WriteEndObject();
    }

    // the shadow-model attack, attribute inference, singling out, linkability and isolated-record risk
    // (privacy.shadow_membership_inference, privacy.attribute_inference[], privacy.singling_out[], privacy.linkability,
    // privacy.outlier_risk); row numbers, rates and distances only, never a record's values (nor a query's)
    private static void Attacks(Utf8JsonWriter w, PrivacyReport p)
    {
        if (p.Shadow is { } sh)
        {
            AttackStart(w, "shadow_membership_inference", sh.Attack, sh.Auc, sh.TprAtFpr10, sh.TprAtFpr01);
            w.WriteNumber("shadow_models", sh.ShadowModels);
            w.WriteNumber("shadow_train_rows", sh.ShadowTrainRows);
            w.WriteNumber("synthetic_rows", sh.SyntheticRows);
            w.WriteNumber("members", sh.Members);
            w.WriteNumber("non_members", sh.NonMembers);
            w.WriteNumber("classifier_rows", sh.ClassifierRows);
            Number(w, "classifier_train_auc", sh.ClassifierTrainAuc);
            Gate(w, sh.Gate);
            Provenance(w, p, Privacy.PrivacyAudit.ShadowThreatModel);
            w.WriteEndObject();
        }
        else if (p.ShadowSkipped is { } why) Skipped(w, "shadow_membership_inference", why);
        if (p.AttributeInference is { } list)
        {
            w.WriteStartArray("attribute_inference");
            foreach (var a in list)
            {
                w.WriteStartObject();
                w.WriteString("column", a.Column);
                w.WriteNumber("targets", a.Targets);
                Number(w, "tolerance", a.Tolerance);
                Number(w, "mae_train", a.MaeTrain);
                Number(w, "mae_holdout", a.MaeHoldout);
                Number(w, "mae_baseline", a.MaeBaseline);
                Outcome(w, p, a.Attack, a.Control, a.Baseline, a.Risk, a.Trusted, Privacy.PrivacyAudit.AttributeThreatModel);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (p.SinglingOut is { } singling)
        {
            w.WriteStartArray("singling_out");
            foreach (var so in singling)
            {
                w.WriteStartObject();
                w.WriteString("mode", so.Mode.WireName());
                w.WriteNumber("columns_per_query", so.ColumnsPerQuery);
                w.WriteNumber("requested", so.Requested);
                w.WriteNumber("queries", so.Queries);
                w.WriteNumber("attempts", so.Attempts);
                w.WriteNumber("train_rows", so.TrainRows);
                w.WriteNumber("holdout_rows", so.HoldoutRows);
                Number(w, "control_correction", so.ControlCorrection);
                Outcome(w, p, so.Attack, so.Control, so.Baseline, so.Risk, so.Trusted, Privacy.PrivacyAudit.SinglingOutThreatModel);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (p.Linkability is { } lk)
        {
            w.WriteStartObject("linkability");
            w.WriteStartArray("first_series");
            foreach (var name in lk.FirstColumns) w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteStartArray("second_series");
            foreach (var name in lk.SecondColumns) w.WriteStringValue(name);
            w.WriteEndArray();
            w.WriteNumber("neighbours", lk.Neighbours);
            w.WriteNumber("targets", lk.Targets);
            Outcome(w, p, lk.Attack, lk.Control, lk.Baseline, lk.Risk, lk.Trusted, Privacy.PrivacyAudit.LinkabilityThreatModel);
            w.WriteEndObject();
        }
        else if (p.LinkabilitySkipped is { } skipped) Skipped(w, "linkability", skipped);
        if (p.OutlierRisk is { } o)
        {
            w.WriteStartObject("outlier_risk");
            Number(w, "fraction", o.Fraction);
            w.WriteNumber("records_examined", o.Records.Count);
            Number(w, "median_dcr_ratio", o.MedianRatioOutliers);
            Number(w, "median_dcr_ratio_all_train", o.MedianRatioAll);
            Number(w, "share_ratio_below_one", o.ShareRatioBelowOne);
            Number(w, "median_score_percentile", o.MedianScorePercentile);
            Number(w, "max_score_percentile", o.MaxScorePercentile);
            w.WriteStartArray("records");
            foreach (var r in o.Records)
            {
                w.WriteStartObject();
                w.WriteNumber("train_row", r.TrainRow);
                Number(w, "isolation", r.Isolation);
                Number(w, "dcr_synthetic", r.DcrSynthetic);
                Number(w, "dcr_holdout", r.DcrHoldout);
                Number(w, "dcr_ratio", r.DcrRatio);
                Number(w, "membership_score", r.MembershipScore);
                Number(w, "score_percentile", r.ScorePercentile);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Provenance(w, p, Privacy.PrivacyAudit.OutlierThreatModel);
            w.WriteEndObject();
        }
    }

    // what the attribute-inference, singling-out and linkability attacks each end with: the success on train, on holdout
    // and of the baseline with their 95% half-widths, the residual risk and its interval clamped to [0, 1], trusted, and
    // the threat model with the holdout's hash
    private static void Outcome(Utf8JsonWriter w, PrivacyReport p, Privacy.SuccessRate attack, Privacy.SuccessRate control,
        Privacy.SuccessRate baseline, Privacy.SuccessRate risk, bool trusted, string threatModel)
    {
        Rate(w, "success_train", attack);
        Rate(w, "success_holdout", control);
        Rate(w, "success_baseline", baseline);
        Number(w, "risk", Math.Clamp(risk.Value, 0, 1));
        Number(w, "risk_ci_low", Math.Clamp(risk.Value - risk.Error, 0, 1));
        Number(w, "risk_ci_high", Math.Clamp(risk.Value + risk.Error, 0, 1));
        w.WriteBoolean("trusted", trusted);
        Provenance(w, p, threatModel);
    }

    // opens a membership attack's object with what both attacks report first: {"attack", "auc", "tpr_at_fpr_10pct", "tpr_at_fpr_1pct", …
    private static void AttackStart(Utf8JsonWriter w, string name, string attack, double auc, double tprAtFpr10, double tprAtFpr01)
    {
        w.WriteStartObject(name);
        w.WriteString("attack", attack);
        Number(w, "auc", auc);
        Number(w, "tpr_at_fpr_10pct", tprAtFpr10);
        Number(w, "tpr_at_fpr_1pct", tprAtFpr01);
    }

    // a section that was not computed: {"skipped": why}
    private static void Skipped(Utf8JsonWriter w, string name, string why)
    {
        w.WriteStartObject(name);
        w.WriteString("skipped", why);
        w.WriteEndObject();
    }

    // PRIV-9 for the attacks: the one-line threat model and the holdout's hash beside each one's n
    private static void Provenance(Utf8JsonWriter w, PrivacyReport p, string threatModel)
    {
        w.WriteString("threat_model", threatModel);
        if (p.Audit is { } a) w.WriteString("holdout_sha256", a.Split.HoldoutSha256);
    }

    // the split-disciplined metrics (RELIABILITY.md PRIV-1/3/4/5/9): privacy.{share_bound, share_within_bound, warnings,
    // holdout_sha256, threat_models, split, dcr_share, ims, nndr}; every metric with its threat model, n, CI (where it has
    // one) and the holdout's hash
    private static void Audit(Utf8JsonWriter w, Privacy.PrivacyAuditReport a, PrivacyReport p)
    {
        var hash = a.Split.HoldoutSha256;
        Number(w, "share_bound", a.DcrShare.Bound);
        w.WriteBoolean("share_within_bound", a.DcrShare.WithinBound);
        w.WriteStartArray("warnings");
        foreach (var warning in a.Warnings) w.WriteStringValue(warning);
        w.WriteEndArray();
        w.WriteString("holdout_sha256", hash);
        w.WriteStartObject("threat_models");
        w.WriteString("dcr", Privacy.PrivacyAudit.DcrSummaryThreatModel);
        w.WriteString("dcr_share", Privacy.PrivacyAudit.DcrThreatModel);
        w.WriteString("ims", Privacy.PrivacyAudit.ImsThreatModel);
        w.WriteString("nndr", Privacy.PrivacyAudit.NndrThreatModel);
        if (p.Membership is not null) w.WriteString("membership_inference", Privacy.PrivacyAudit.MembershipThreatModel);
        if (p.Shadow is not null) w.WriteString("shadow_membership_inference", Privacy.PrivacyAudit.ShadowThreatModel);
        if (p.AttributeInference is not null) w.WriteString("attribute_inference", Privacy.PrivacyAudit.AttributeThreatModel);
        if (p.SinglingOut is not null) w.WriteString("singling_out", Privacy.PrivacyAudit.SinglingOutThreatModel);
        if (p.Linkability is not null) w.WriteString("linkability", Privacy.PrivacyAudit.LinkabilityThreatModel);
        if (p.OutlierRisk is not null) w.WriteString("outlier_risk", Privacy.PrivacyAudit.OutlierThreatModel);
        w.WriteEndObject();

        var s = a.Split;
        w.WriteStartObject("split");
        w.WriteNumber("train_rows", s.TrainRows);
        w.WriteNumber("holdout_rows", s.HoldoutRows);
        w.WriteNumber("synthetic_rows", s.SyntheticRows);
        w.WriteNumber("reference_rows", s.N);
        w.WriteNumber("synthetic_used", s.SyntheticUsed);
        Number(w, "holdout_to_train", s.HoldoutToTrain);
        w.WriteString("holdout_sha256", hash);
        w.WriteString("holdout_hash_of", s.HoldoutHashOf);
        w.WriteNumber("seed", s.Seed);
        w.WriteEndObject();

        var d = a.DcrShare;
        Metric(w, "dcr_share", d.ThreatModel, d.N, s.N, hash, () =>
        {
            Number(w, "share_closer_to_train", d.Share);
            Interval(w, "ci95", d.Ci);
            Number(w, "bound", d.Bound);
            w.WriteBoolean("within_bound", d.WithinBound);
            Number(w, "score", d.Score);
        });

        var i = a.Ims;
        Metric(w, "ims", i.ThreatModel, i.N, s.N, hash, () =>
        {
            Number(w, "tolerance", i.Tolerance);
            Number(w, "synthetic_to_training", i.SyntheticToTraining);
            Interval(w, "synthetic_to_training_ci95", i.TrainingCi);
            Number(w, "synthetic_to_holdout", i.SyntheticToHoldout);
            Interval(w, "synthetic_to_holdout_ci95", i.HoldoutCi);
            Number(w, "margin", i.Margin);
            w.WriteBoolean("within_margin", i.WithinMargin);
        });

        var r = a.Nndr;
        Metric(w, "nndr", r.ThreatModel, r.N, s.N, hash, () =>
        {
            w.WriteNumber("rank", r.Rank);
            Number(w, "synthetic_to_training", r.SyntheticToTraining);
            Number(w, "synthetic_to_holdout", r.SyntheticToHoldout);
            Number(w, "training_to_holdout", r.TrainingToHoldout);
            w.WriteBoolean("synthetic_below_training", r.SyntheticBelowTraining);
        });

        if (a.RangeNormalised is { } g)
        {
            Metric(w, "dcr_range_normalised", d.ThreatModel, g.N, s.N, hash, () =>
            {
                Number(w, "synthetic_to_training_median", g.SyntheticToTrainingMedian);
                Number(w, "synthetic_to_holdout_median", g.SyntheticToHoldoutMedian);
                Number(w, "share_closer_to_train", g.Share);
                Number(w, "bound", g.Bound);
                w.WriteBoolean("within_bound", g.WithinBound);
            });
        }

        // the DCR share's control: the real train rows, leave-one-out, against the same holdout (0.5 when the two are exchangeable)
        if (a.HoldoutExchangeability is { } x)
        {
            w.WriteStartObject("holdout_exchangeability");
            w.WriteString("purpose", "the DCR share of the real train rows themselves (each against the other train rows and the holdout), no generator involved: 0.5 when train and holdout come from one distribution; above the bound, the holdout is shifted and dcr_share is read against this share");
            w.WriteNumber("n", x.N);
            w.WriteNumber("reference_rows", x.ReferenceRows);
            Number(w, "share_closer_to_train", x.Share);
            Interval(w, "ci95", x.Ci);
            Number(w, "bound", x.Bound);
            w.WriteBoolean("exchangeable", x.Exchangeable);
            w.WriteString("holdout_sha256", hash);
            w.WriteEndObject();
        }
    }

    // one privacy metric's object (PRIV-9): its threat model, n and reference rows, its own fields, the holdout's hash
    private static void Metric(Utf8JsonWriter w, string name, string threatModel, int n, int referenceRows, string hash, Action fields)
    {
        w.WriteStartObject(name);
        w.WriteString("threat_model", threatModel);
        w.WriteNumber("n", n);
        w.WriteNumber("reference_rows", referenceRows);
        fields();
        w.WriteString("holdout_sha256", hash);
        w.WriteEndObject();
    }

    // an attack's PRIV-7 gate: {bound, passed, rule, members, within_chance, non_members, alpha, p_value} and, with the model's DP statement,
    // {epsilon, delta, dp_bound_fpr_10pct, dp_bound_fpr_1pct, within_dp}
    private static void Gate(Utf8JsonWriter w, Privacy.MembershipGate? gate)
    {
        if (gate is null) return;
        w.WriteStartObject("gate");
        Number(w, "bound", gate.Bound);
        w.WriteBoolean("passed", gate.Passed);
        w.WriteString("rule", gate.Rule);
        w.WriteNumber("members", gate.Members);
        w.WriteBoolean("within_chance", gate.WithinChance);
        w.WriteNumber("non_members", gate.NonMembers);
        Number(w, "alpha", Privacy.MembershipGate.Alpha);
        Number(w, "p_value", gate.PValue);
        if (gate.Dp is { } dp)
        {
            Number(w, "epsilon", dp.Epsilon);
            Number(w, "delta", dp.Delta);
            Number(w, "dp_bound_fpr_10pct", gate.DpBoundFpr10 ?? double.NaN);
            Number(w, "dp_bound_fpr_1pct", gate.DpBoundFpr01 ?? double.NaN);
            w.WriteBoolean("within_dp", gate.WithinDp == true);
            if (dp.Source is { } source) w.WriteString("dp_source", source); // absent: the --model folder's manifest
        }
        w.WriteEndObject();
    }

    // a Wilson interval as [low, high], clamped to [0, 1]
    private static void Interval(Utf8JsonWriter w, string name, Privacy.SuccessRate rate)
    {
        w.WriteStartArray(name);
        Value(w, rate.Lower);
        Value(w, rate.Upper);
        w.WriteEndArray();
    }

    private static void Rate(Utf8JsonWriter w, string name, Privacy.SuccessRate rate)
    {
        Number(w, name, rate.Value);
        Number(w, name + "_ci95", rate.Error);
    }

    // portfolio.backtest_all_days: the one-day VaR on every real step (backtest keeps its last 250), with the Basel zone
    // for that many observations at α and Christoffersen's tests (spelled as the backtest command's, BacktestJson)
    private static void AllDaysBacktest(Utf8JsonWriter w, double valueAtRisk, DailyVarBacktest all, double alpha)
    {
        w.WriteStartObject("backtest_all_days");
        Number(w, "var", valueAtRisk);
        w.WriteNumber("paths", all.Paths);
        w.WriteNumber("observations", all.Result.Observations);
        w.WriteNumber("exceptions", all.Result.Exceptions);
        Number(w, "expected_exceptions", Risk.VarBacktest.ExpectedExceptions(all.Result.Observations, alpha));
        Number(w, "kupiec_lr", all.Result.KupiecStatistic);
        Number(w, "kupiec_p_value", all.Result.KupiecPValue);
        w.WriteString("traffic_light", all.Result.Zone.WireName());
        ZoneBounds(w, Risk.VarBacktest.Bounds(all.Result.Observations, alpha));
        Christoffersen(w, all.Christoffersen);

        w.WriteEndObject();
    }

    /// <summary>The note of <c>portfolio.backtest_horizon</c>: why it gives binomial probabilities and no Basel colour.</summary>
    public const string HorizonBacktestNote =
        "the Basel traffic light is defined for 250 daily observations; for H-step windows the binomial probabilities of the exception count under a correct VaR are given instead of a colour";

    // portfolio.backtest_horizon: the scenarios' H-step VaR on the real set's non-overlapping H-step windows
    private static void HorizonBacktest(Utf8JsonWriter w, HorizonVarBacktest hb, double alpha)
    {
        w.WriteStartObject("backtest_horizon");
        w.WriteNumber("horizon", hb.Horizon);
        Number(w, "var", hb.ValueAtRisk);
        w.WriteNumber("observations", hb.Observations);
        w.WriteNumber("exceptions", hb.Exceptions);
        Number(w, "expected_exceptions", Risk.VarBacktest.ExpectedExceptions(hb.Observations, alpha));
        Number(w, "kupiec_lr", hb.KupiecStatistic);
        Number(w, "kupiec_p_value", hb.KupiecPValue);
        Number(w, "p_at_most", hb.ProbabilityAtMost);
        Number(w, "p_at_least", hb.ProbabilityAtLeast);
        w.WriteString("note", HorizonBacktestNote);
        w.WriteEndObject();
    }

    /// <summary>
    /// Christoffersen's tests as <c>christoffersen</c>: the transition counts n00, n01, n10, n11 of the exception days,
    /// independence_lr/p and conditional_coverage_lr/p; nothing when <paramref name="c"/> is null (the evaluation report's
    /// every-day backtest and the backtest command's years).
    /// </summary>
    public static void Christoffersen(Utf8JsonWriter w, Risk.ChristoffersenResult? c)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (c is null) return;
        w.WriteStartObject("christoffersen");
        w.WriteNumber("n00", c.Transitions.N00);
        w.WriteNumber("n01", c.Transitions.N01);
        w.WriteNumber("n10", c.Transitions.N10);
        w.WriteNumber("n11", c.Transitions.N11);
        Number(w, "independence_lr", c.IndependenceStatistic);
        Number(w, "independence_p", c.IndependencePValue);
        Number(w, "conditional_coverage_lr", c.ConditionalCoverageStatistic);
        Number(w, "conditional_coverage_p", c.ConditionalCoveragePValue);
        w.WriteEndObject();
    }

    /// <summary>
    /// The Basel zones a traffic light was read from, as <c>zone_bounds</c>: <c>yellow_from</c>, <c>red_from</c> and their
    /// text (the evaluation report's backtest and the backtest command's years).
    /// </summary>
    public static void ZoneBounds(Utf8JsonWriter w, Risk.TrafficLightBounds bounds)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(bounds);
        w.WriteStartObject("zone_bounds");
        w.WriteNumber("yellow_from", bounds.YellowFrom);
        w.WriteNumber("red_from", bounds.RedFrom);
        w.WriteString("text", bounds.ToString());
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes the property <paramref name="name"/> with <paramref name="value"/> as <see cref="Value"/> writes it: the rule
    /// every Crucible JSON report writes its doubles by (the stress, backtest and ensemble reports too).
    /// </summary>
    public static void Number(Utf8JsonWriter w, string name, double value)
    {
        w.WritePropertyName(name);
        Value(w, value);
    }

    /// <summary>Writes <paramref name="value"/> in the form of <see cref="FormatNumber"/>: null for NaN and ±∞.</summary>
    public static void Value(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteRawValue(FormatNumber(value), skipInputValidation: true);
        else w.WriteNullValue();
    }

    private static void PairValue(Utf8JsonWriter w, string name, Pair pair)
    {
        w.WriteStartArray(name);
        Value(w, pair.Real);
        Value(w, pair.Synthetic);
        w.WriteEndArray();
    }

    private static void Array(Utf8JsonWriter w, string? name, double[] values)
    {
        if (name is null) w.WriteStartArray();
        else w.WriteStartArray(name);
        foreach (var v in values) Value(w, v);
        w.WriteEndArray();
    }

    private static void Vectors(Utf8JsonWriter w, string name, VectorPair pair)
    {
        w.WriteStartArray(name);
        Array(w, null, pair.Real);
        Array(w, null, pair.Synthetic);
        w.WriteEndArray();
    }

    private static void Matrices(Utf8JsonWriter w, string name, MatrixPair pair)
    {
        w.WriteStartObject(name);
        w.WriteStartArray("real");
        foreach (var row in pair.Real) Array(w, null, row);
        w.WriteEndArray();
        w.WriteStartArray("synthetic");
        foreach (var row in pair.Synthetic) Array(w, null, row);
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
