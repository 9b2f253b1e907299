using System.Security.Cryptography;
using Crucible.Cli.Commands;
using Crucible.Data;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train</c> registers and records only the model it trained: two runs writing one <c>--out</c> at once (overlapping
/// schedules) replaced each other's folder, and a seed-2 run reported the seed-1 model "registered" as its own (session 23).
/// </summary>
public sealed class TrainedModelFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-trained-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFolderHoldingAnotherModel_IsRefused_NamingBothModels()
    {
        string folder = Path.Combine(_dir, "m");
        Directory.CreateDirectory(folder);
        byte[] ours = [1, 2, 3], theirs = [4, 5, 6];
        string ourId = Convert.ToHexStringLower(SHA256.HashData(ours)), theirId = Convert.ToHexStringLower(SHA256.HashData(theirs));

        File.WriteAllBytes(Path.Combine(folder, "weights.safetensors"), ours);
        TrainedModelFolder.ThrowIfReplaced(folder, ourId); // still ours: nothing to say

        File.WriteAllBytes(Path.Combine(folder, "weights.safetensors"), theirs); // the other run's rename landed
        var e = Assert.Throws<InvalidInputException>(() => TrainedModelFolder.ThrowIfReplaced(folder, ourId));
        Assert.Equal(TrainedModelFolder.ReplacedRule, e.Rule);
        Assert.Equal(folder, e.Location!.File);
        Assert.Contains($"it holds model {theirId[..16]}…, not the model {ourId[..16]}… trained here", e.Message, StringComparison.Ordinal);
        Assert.Contains("two runs must not write one --out at once", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoTrainRunsIntoOneFolder_EachRegistersOnlyItsOwnModel_OrIsRefused()
    {
        // the overlap itself, in two child processes started together: whatever the interleaving, a run that exits 0 names
        // its own model in the registry line, and one that lost the race exits 2 (never "registered" with the other run's
        // model, as before)
        string home = Path.Combine(_dir, "home"), model = Path.Combine(_dir, "shared-model");
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 300);
        var env = new Dictionary<string, string> { ["CRUCIBLE_HOME"] = home };
        var runs = new[] { "1", "2" }.Select(seed => Task.Run(() => CliProcess.Run(env,
            "train", "--data", prices, "--steps", "30", "--seed", seed, "--out", model))).ToArray();
        foreach (var (exit, stdout, stderr) in await Task.WhenAll(runs))
        {
            if (exit == 0)
            {
                string id = stdout.Split("(id ")[1][..16];
                Assert.Contains("registered as " + id, stdout, StringComparison.Ordinal);
            }
            else
            {
                // refused, never a bug: the folder replaced before registration (OUT-E-REPLACED), both renames at the same
                // moment (OUT-E-WRITE: the other run's folder already stood where this one's was to go), or replaced while the
                // registry copied it (REG-E-FOLDER: the registry's own check of the files it copied; seen in CI)
                Assert.True(exit == 2, stderr);
                Assert.True(new[] { "error [OUT-E-REPLACED]", "error [OUT-E-WRITE]", "error [REG-E-FOLDER]" }.Any(rule => stderr.Contains(rule, StringComparison.Ordinal)), stderr);
                Assert.DoesNotContain("registered as", stdout, StringComparison.Ordinal);
            }
        }
    }
}
