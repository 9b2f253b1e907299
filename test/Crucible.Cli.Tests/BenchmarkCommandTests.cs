using System.Globalization;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible benchmark stocks</c>: bad input exits 2 before any training; <c>--no-context-fid</c> on a tiny file (one
/// training step, one metric run: seconds) writes no Context-FID. (A full run takes minutes: its library path is tested
/// in StocksBenchmarkTests and PacfTrainingTests, its figures are in bench/stocks.)
/// </summary>
public sealed class BenchmarkCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BadInput_ExitsTwo_WithoutStackTrace()
    {
        var missing = CliProcess.Run("benchmark", "stocks", "--data", Path.Combine(_dir, "none.csv"));
        Assert.Equal(2, missing.Exit);
        Assert.DoesNotContain("   at ", missing.Stderr, StringComparison.Ordinal);

        var constant = Path.Combine(_dir, "constant.csv");
        File.WriteAllLines(constant, ["Date,A,B", .. Enumerable.Range(0, 30).Select(i => $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},1.5,{i}")]);
        var flat = CliProcess.Run("benchmark", "stocks", "--data", constant);
        Assert.Equal(2, flat.Exit);
        Assert.Contains("constant", flat.Stderr, StringComparison.Ordinal);

        var ok = Path.Combine(_dir, "ok.csv");
        File.WriteAllLines(ok, ["Date,A,B", .. Enumerable.Range(0, 30).Select(i => $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},{i % 7},{i}")]);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--data", ok, "--runs", "0").Exit);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--data", ok, "--pacf-weight", "-1").Exit);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--runs", "2").Exit); // --data missing

        // more threads than any machine has cores are refused before anything runs (1025 started the training)
        var result = Path.Combine(_dir, "threads.json");
        var many = CliProcess.Run("benchmark", "stocks", "--data", ok, "--runs", "1", "--steps", "1", "--no-context-fid", "--threads", "1025", "--out", result);
        Assert.True(many.Exit == 2, $"exit {many.Exit}: {many.Stdout}{many.Stderr}");
        Assert.Contains("error [OPT-E]: --threads takes a count in 1..1024, got 1025", many.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(result));
        Assert.Contains("error [OPT-E]: --threads takes a count in 1..1024, got 0",
            CliProcess.Run("benchmark", "stocks", "--data", ok, "--threads", "0").Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void NoContextFid_SkipsIt_TheJsonHasNoContextFidScore()
    {
        var data = Path.Combine(_dir, "tiny.csv");
        File.WriteAllLines(data, ["Date,A,B,C", .. Enumerable.Range(0, 60).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},{(i % 7) + Math.Sin(i)},{i},{i * i % 11}"))]);
        var result = Path.Combine(_dir, "result.json");
        var run = CliProcess.Run("benchmark", "stocks", "--data", data, "--runs", "1", "--steps", "1", "--threads", "1", "--no-context-fid", "--out", result);
        Assert.True(run.Exit is 0 or 3, run.Stdout + run.Stderr); // a one-step model on 37 windows need not meet the targets
        Assert.Contains("context-fid:    not computed (--no-context-fid)", run.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(result));
        var root = doc.RootElement;
        Assert.False(root.TryGetProperty("context_fid", out _)); // omitted, not a placeholder value
        Assert.Equal(37, root.GetProperty("windows").GetInt32());
        foreach (var score in new[] { "discriminative", "predictive", "correlational" })
            Assert.True(double.IsFinite(root.GetProperty(score).GetProperty("mean").GetDouble()), score);
    }

    [Fact]
    public void Json_PrintsTheResultFilesMembers_AsTheWholeOfStdout()
    {
        var data = Path.Combine(_dir, "tiny.csv");
        File.WriteAllLines(data, ["Date,A,B,C", .. Enumerable.Range(0, 60).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},{(i % 7) + Math.Sin(i)},{i},{i * i % 11}"))]);
        var result = Path.Combine(_dir, "result.json");
        var run = CliProcess.Run("benchmark", "stocks", "--data", data, "--runs", "2", "--steps", "1", "--threads", "1", "--no-context-fid", "--out", result, "--json");
        Assert.True(run.Exit is 0 or 3, run.Stdout + run.Stderr); // the document is printed on exit 3 too
        Assert.Contains("context-fid:    not computed (--no-context-fid)", run.Stderr, StringComparison.Ordinal); // the summary, on stderr
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        var printed = System.Text.Json.Nodes.JsonNode.Parse(lines[0])!.AsObject();
        Assert.Equal("benchmark stocks", (string?)printed["command"]);
        Assert.Equal(Path.GetFullPath(result), (string?)printed["result"]);
        Assert.Equal(run.Exit == 0, (bool)printed["passed"]!);
        printed.Remove("command");
        printed.Remove("result");
        // every member of the --out file, figures included, and nothing else
        var file = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(result))!;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(file, printed), $"{file.ToJsonString()}\n{printed.ToJsonString()}");
        Assert.True(printed["discriminative"]!["mean"]!.GetValue<double>() is >= 0 and <= 0.5);

        // an error prints no document
        var bad = CliProcess.Run("benchmark", "stocks", "--data", data, "--runs", "0", "--json");
        Assert.Equal(2, bad.Exit);
        Assert.Equal("", bad.Stdout);
    }
}
