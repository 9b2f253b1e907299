using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>
/// What a scenario CSV's metadata (<c>FILE.meta.json</c>, written beside it by <c>crucible generate</c> and the
/// scenario service) says about how to read it: the price columns <c>generate --prices</c> put after the return columns
/// (<c>prices.columns</c>). The sidecar is the only source of truth: names alone (<c>X_price</c> beside <c>X</c>) never
/// make a column a price column, since a model may have both as series. A sidecar that declares price columns is trusted
/// only when its <c>csv_sha256</c> is the CSV's SHA-256 and the header ends with exactly those columns, in that order.
/// Rules: <see cref="MetadataRule"/>, <see cref="HashRule"/>, <see cref="PriceColumnsRule"/>.
/// </summary>
public static class ScenarioSidecar
{
    /// <summary>The rule of a sidecar that is not readable JSON, or whose <c>prices.columns</c> is not a list of names.</summary>
    public const string MetadataRule = "scenario-metadata";

    /// <summary>The rule of a sidecar declaring price columns whose <c>csv_sha256</c> is not the CSV's: it is not this CSV's metadata.</summary>
    public const string HashRule = "scenario-metadata-sha256";

    /// <summary>The rule of price columns that are not exactly the header's last columns, in the sidecar's order.</summary>
    public const string PriceColumnsRule = "price-columns";

    /// <summary>The suffix <c>generate --prices</c> gives a series' price column.</summary>
    public const string PriceSuffix = "_price";

    /// <summary>The metadata path beside <paramref name="csvPath"/>: <c>X.csv</c> → <c>X.meta.json</c> (otherwise <c>X.meta.json</c> appended), as <c>generate</c> names it.</summary>
    public static string MetadataPath(string csvPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        return csvPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? csvPath[..^4] + ".meta.json" : csvPath + ".meta.json";
    }

    /// <summary>
    /// How many of the header's last columns are price columns, by the sidecar beside <paramref name="csvPath"/>: 0 when
    /// there is no sidecar or it declares none. <paramref name="header"/> is the CSV's header row split into names and
    /// <paramref name="firstSeries"/> the index of its first series column (after <c>scenario,step</c>).
    /// </summary>
    /// <exception cref="InvalidInputException">The sidecar is unreadable (<see cref="MetadataRule"/>), is not this CSV's
    /// (<see cref="HashRule"/>), or names columns the header does not end with (<see cref="PriceColumnsRule"/>).</exception>
    public static int PriceColumnCount(string csvPath, IReadOnlyList<string> header, int firstSeries)
    {
        ArgumentNullException.ThrowIfNull(header);
        var metaPath = MetadataPath(csvPath);
        if (!File.Exists(metaPath)) return 0;
        var declared = DeclaredPriceColumns(metaPath, out var sha);
        if (declared.Count == 0) return 0;

        var actual = Sha256(csvPath);
        if (!string.Equals(sha, actual, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidInputException(HashRule,
                $"{Path.GetFileName(metaPath)} declares price columns ({string.Join(", ", declared)}) but is not this file's metadata: it records csv_sha256 "
                + $"{(string.IsNullOrEmpty(sha) ? "(none)" : sha)}, the file's SHA-256 is {actual} (regenerate the file, or put the metadata written with it beside it)",
                new InputLocation(csvPath, 0, 0));
        }

        var k = declared.Count;
        var start = header.Count - k;
        if (start <= firstSeries)
        {
            throw new InvalidInputException(PriceColumnsRule,
                $"{Path.GetFileName(metaPath)} declares {k} price columns ({string.Join(", ", declared)}), which leaves no return column in a header of {header.Count - firstSeries} series columns",
                new InputLocation(csvPath, 1, Math.Min(firstSeries, header.Count - 1) + 1, header[Math.Min(firstSeries, header.Count - 1)]));
        }

        for (var i = 0; i < k; i++)
        {
            if (string.Equals(header[start + i], declared[i], StringComparison.Ordinal)) continue;
            var at = IndexOf(header, declared[i]);
            var where = at < 0 ? "is not in the header" : $"is column {at + 1}";
            throw new InvalidInputException(PriceColumnsRule,
                $"{Path.GetFileName(metaPath)} declares price columns {string.Join(", ", declared)}, which must end the header in that order; "
                + $"column {start + i + 1} is '{header[start + i]}' where '{declared[i]}' belongs ('{declared[i]}' {where})",
                new InputLocation(csvPath, 1, start + i + 1, header[start + i]));
        }

        return k;
    }

    /// <summary>
    /// The series columns (from <paramref name="firstSeries"/>) named <c>X_price</c> while <c>X</c> is a column too: the
    /// trace of <c>generate --prices</c>, for messages only (never a reason to skip a column).
    /// </summary>
    public static IReadOnlyList<string> SuspectedPriceColumns(IReadOnlyList<string> header, int firstSeries)
    {
        ArgumentNullException.ThrowIfNull(header);
        var series = header.Skip(Math.Max(0, firstSeries)).ToHashSet(StringComparer.Ordinal);
        return [.. header.Skip(Math.Max(0, firstSeries)).Where(n => n.Length > PriceSuffix.Length && n.EndsWith(PriceSuffix, StringComparison.Ordinal)
            && series.Contains(n[..^PriceSuffix.Length]))];
    }

    /// <summary>
    /// The sentence a message about a scenario file's columns adds when <paramref name="suspected"/> (from
    /// <see cref="SuspectedPriceColumns"/>) is not empty; empty otherwise.
    /// </summary>
    public static string PriceColumnHint(string csvPath, IReadOnlyList<string> suspected)
    {
        ArgumentNullException.ThrowIfNull(suspected);
        if (suspected.Count == 0) return "";
        return $" The file may have price columns ({string.Join(", ", suspected)}: `generate --prices` writes them): readers skip them only when its metadata "
            + $"{Path.GetFileName(MetadataPath(csvPath))}, written with it, is beside it; or generate the file without --prices.";
    }

    /// <summary>
    /// The metadata file beside the scenario CSV <paramref name="csvPath"/> when it declares price columns, so that reading
    /// the file depends on it (a run records it as an input); null otherwise, or when it is unreadable (reading the file
    /// then refuses it). Checks nothing else: <see cref="SeriesSetCsv.Read(string, IReadOnlyList{string}?)"/> does.
    /// </summary>
    public static string? PriceMetadataOf(string csvPath) =>
        string.IsNullOrEmpty(csvPath) || !File.Exists(csvPath) || Header(csvPath) is not { } header || header[0] != "scenario" ? null : DeclaringMetadata(csvPath);

    // the metadata beside a scenario CSV when it declares price columns (null when absent, declaring none, or unreadable)
    private static string? DeclaringMetadata(string csvPath)
    {
        var metaPath = MetadataPath(csvPath);
        if (!File.Exists(metaPath)) return null;
        try
        {
            return DeclaredPriceColumns(metaPath, out _).Count > 0 ? metaPath : null;
        }
        catch (InvalidInputException)
        {
            return null;
        }
    }

    /// <summary>
    /// A warning for a scenario CSV read without price metadata whose header has <c>X_price</c> beside <c>X</c>: those
    /// columns are read as return series (a portfolio could even hold one), which is right for a model with such series and
    /// wrong for the price columns of <c>generate --prices</c>. Null when there is nothing to say.
    /// </summary>
    public static string? Warning(string csvPath)
    {
        if (string.IsNullOrEmpty(csvPath) || !File.Exists(csvPath)) return null;
        var header = Header(csvPath);
        if (header is null || header[0] != "scenario" || DeclaringMetadata(csvPath) is not null) return null;
        var suspected = SuspectedPriceColumns(header, header.Length > 1 && header[1] == "step" ? 2 : 1);
        if (suspected.Count == 0) return null;
        return $"{csvPath} has columns {string.Join(", ", suspected)} beside {string.Join(", ", suspected.Select(c => c[..^PriceSuffix.Length]))} and no metadata "
            + "declaring price columns: they are read as return series. If they are the price columns of `generate --prices`, put the "
            + $"{Path.GetFileName(MetadataPath(csvPath))} written with the file beside it (or generate without --prices).";
    }

    // the header row's names as SeriesSetCsv reads them (the data loader's RFC 4180 tokenizer and header cells, CsvHeader;
    // a trailing delimiter dropped); null for an empty file, or one whose header the tokenizer
    // refuses (the read itself says why)
    private static string[]? Header(string csvPath)
    {
        try
        {
            using var csv = Data.Csv.CsvRecordReader.Open(csvPath);
            if (!csv.Read() || csv.IsBlank) return null;
            var names = new string[csv.FieldCount];
            for (var c = 0; c < names.Length; c++) names[c] = Data.Csv.CsvHeader.CellName(csv.Field(c));
            if (names.Length > 1 && names[^1].Length == 0) names = names[..^1];
            return names.Length == 1 && names[0].Length == 0 ? null : names;
        }
        catch (InvalidInputException)
        {
            return null;
        }
    }

    // prices.columns (empty when absent) and csv_sha256 of the sidecar
    private static List<string> DeclaredPriceColumns(string metaPath, out string? sha)
    {
        sha = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(ReadJson(metaPath));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(MetadataRule, $"the scenario metadata is not valid JSON: {e.Message}",
                new InputLocation(metaPath, (e.LineNumber ?? -1) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException(MetadataRule, "the scenario metadata is not a JSON object", new InputLocation(metaPath, 1, 1));
            if (!root.TryGetProperty("prices", out var prices) || prices.ValueKind == JsonValueKind.Null) return [];
            if (prices.ValueKind != JsonValueKind.Object || !prices.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array
                || columns.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(c.GetString())))
            {
                throw new InvalidInputException(MetadataRule, "the scenario metadata's 'prices' has no 'columns' list of column names", new InputLocation(metaPath, 0, 0));
            }

            if (root.TryGetProperty("csv_sha256", out var s) && s.ValueKind == JsonValueKind.String) sha = s.GetString();
            return [.. columns.EnumerateArray().Select(c => c.GetString()!)];
        }
    }

    /// <summary>
    /// The DP statement (ε, δ) of the model that generated the scenario CSV <paramref name="csvPath"/>, from its metadata's
    /// <c>privacy</c> (<c>generate</c> copies the model's statement there), for the membership gates' DP-12 check when no
    /// model folder is given. Trusted only when the metadata's <c>csv_sha256</c> is the file's SHA-256: otherwise, or when
    /// the statement cannot be read, <see cref="SidecarDpStatement.Dp"/> is null and <see cref="SidecarDpStatement.Warning"/>
    /// says why. Null when there is no metadata or it carries no statement (a model trained without DP).
    /// </summary>
    public static SidecarDpStatement? DpStatementOf(string csvPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        var metaPath = MetadataPath(csvPath);
        if (!File.Exists(metaPath) || !File.Exists(csvPath)) return null;
        var name = Path.GetFileName(metaPath);
        SidecarDpStatement Unread(string why) => new(null, metaPath,
            $"{name} {why}: the membership gates do not check the DP-12 bound (give --model DIR, the model folder, to check it)");
        try
        {
            using var doc = JsonDocument.Parse(ReadJson(metaPath));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("privacy", out var privacy) || privacy.ValueKind == JsonValueKind.Null) return null;
            if (privacy.ValueKind != JsonValueKind.Object
                || !privacy.TryGetProperty("epsilon", out var e) || e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var epsilon)
                || !privacy.TryGetProperty("delta", out var d) || d.ValueKind != JsonValueKind.Number || !d.TryGetDouble(out var delta))
            {
                return Unread("has a 'privacy' statement without numbers 'epsilon' and 'delta'");
            }

            var sha = root.TryGetProperty("csv_sha256", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var actual = Sha256(csvPath);
            if (!string.Equals(sha, actual, StringComparison.OrdinalIgnoreCase))
                return Unread($"carries a DP statement but is not this file's metadata (csv_sha256 {(string.IsNullOrEmpty(sha) ? "(none)" : sha)}, the file's SHA-256 is {actual})");
            var dp = new Privacy.DpGuarantee(epsilon, delta) { Source = name };
            try
            {
                return new SidecarDpStatement(dp.Validated(), metaPath, null);
            }
            catch (ArgumentOutOfRangeException)
            {
                return Unread(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"has an unusable DP statement (epsilon {epsilon}, delta {delta})"));
            }
        }
        catch (JsonException)
        {
            return Unread("is not valid JSON");
        }
    }

    // the metadata's bytes without a UTF-8 byte-order mark, which JsonDocument.Parse of bytes does not skip
    private static ReadOnlyMemory<byte> ReadJson(string metaPath)
    {
        var bytes = Data.IO.InputFile.ReadAllBytes(metaPath);
        return bytes.AsMemory(Data.IO.InputFile.Utf8BomLength(bytes));
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return i;
        }

        return -1;
    }
}

/// <summary>What <see cref="ScenarioSidecar.DpStatementOf"/> found in a scenario file's metadata.</summary>
/// <param name="Dp">The statement, trusted (its <see cref="Privacy.DpGuarantee.Source"/> names the metadata file), or null.</param>
/// <param name="MetadataPath">The metadata file (a recorded input of a run that used <paramref name="Dp"/>).</param>
/// <param name="Warning">Why a statement present was not used, or null.</param>
public sealed record SidecarDpStatement(Privacy.DpGuarantee? Dp, string MetadataPath, string? Warning);
