using System.Diagnostics;
using System.Globalization;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// LOG-4: a child process appends to the audit log and prints each acknowledged seq; it is killed with SIGKILL at a
/// random point 200 times over about 10,000 appends. After every kill the log verifies and holds every acknowledged entry.
/// </summary>
public class CrashSafetyTests
{
    private const int Kills = 200;
    private const int TargetAppends = 10_000;

    [Fact]
    public void KillNine_200Times_During10000Appends_EveryAcknowledgedEntrySurvives()
    {
        if (OperatingSystem.IsWindows()) return; // Process.Kill is SIGKILL on Unix; the guarantee under test is POSIX's
        using var t = new AuditTestHome(checkpointInterval: 64);
        var rng = new System.Random(4242);
        var acked = new HashSet<long>();
        long maxAcked = 0;
        var mean = TargetAppends / Kills;
        for (var k = 0; k < Kills; k++)
        {
            var killAfter = rng.Next(1, 2 * mean); // acknowledged appends before the kill, mean ≈ 50
            using var p = StartChild(t.Home.Root);
            var read = 0;
            while (read < killAfter)
            {
                var line = p.StandardOutput.ReadLine();
                if (line is null) break;
                Record(line);
                read++;
            }

            // Land the kill at a random point of the next append (begin, insert, commit, checkpoint or export).
            var spin = Stopwatch.StartNew();
            var delay = rng.NextDouble() * 2.0;
            while (spin.Elapsed.TotalMilliseconds < delay) Thread.SpinWait(10);
            p.Kill();
            p.WaitForExit();
            // Lines the child printed before it died were acknowledged too.
            foreach (var line in p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)) Record(line);
            Assert.True(read > 0 || k > 0, "the child printed nothing: " + p.StandardError.ReadToEnd());

            var v = AuditLog.Verify(t.Home);
            Assert.True(v.Ok, $"after kill {k + 1}: {v.Message}");
            Assert.True(v.Entries >= maxAcked, $"after kill {k + 1}: {v.Entries} entries but seq {maxAcked} was acknowledged");
        }

        var final = AuditLog.Verify(t.Home);
        Assert.True(final.Ok, final.Message);
        Assert.InRange(acked.Count, TargetAppends * 8 / 10, TargetAppends * 12 / 10);
        using var log = t.Open();
        var present = log.List().Select(e => e.Seq).ToHashSet();
        Assert.Subset(present, acked);

        void Record(string line)
        {
            var seq = long.Parse(line, CultureInfo.InvariantCulture);
            Assert.True(acked.Add(seq), $"seq {seq} acknowledged twice");
            maxAcked = Math.Max(maxAcked, seq);
        }
    }

    private static Process StartChild(string home)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crucible.Governance.AppendChild.dll"));
        start.ArgumentList.Add(home);
        start.ArgumentList.Add("1000000");
        start.Environment["DOTNET_TieredPGO"] = "0";
        return Process.Start(start)!;
    }
}
