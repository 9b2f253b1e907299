using System.Diagnostics;
using System.Globalization;
using System.Text;
using Crucible.Data.IO;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Xunit.Abstractions;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// Crash safety proven with real kills (RELIABILITY SVC-8, LOG-4, key rotation): the crash host
/// (test/Crucible.CrashHost) performs one operation and kills itself with SIGKILL at a named step of it, so no finally
/// block, Dispose or connection close runs (which a thrown <see cref="AuditLogOptions.FaultInjection"/> exception does).
/// After each kill the log verifies on the right key, the next operation from a fresh process works, and nothing is left
/// half-written. The random-delay rounds take <c>CRUCIBLE_KILL_ROUNDS</c> (default 10).
/// </summary>
public sealed class KillSafetyTests : IDisposable
{
    private const int Interval = 4;
    private const int Killed = 128 + 9; // a process killed by SIGKILL, as .NET reports it on Unix
    private readonly AuditTestHome _t = new(Interval);
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "crucible-kill-" + Guid.NewGuid().ToString("N"));

    private readonly ITestOutputHelper _output;

    public KillSafetyTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_scratch);
    }

    public void Dispose()
    {
        _t.Dispose();
        Directory.Delete(_scratch, recursive: true);
    }

    private string Home => _t.Home.Root;

    private string KeyPath => Path.Combine(_t.Home.KeysFolder, AuditSigningKey.PrivateFileName);

    private string PendingPath => AuditSigningKey.PendingPathFor(KeyPath);

    private string PublicPath => AuditSigningKey.PublicPathFor(KeyPath);

    /// <summary>Every step of a key rotation, and the moment after it returned.</summary>
    public static TheoryData<string> RotationKillPoints() => [.. AuditLog.RotationSteps, "after"];

    /// <summary>The steps of a lost-key epoch (it writes the pending key and the retired public key before it opens the log).</summary>
    public static TheoryData<string> LostKeyKillPoints() => [.. LostKeySteps, "after"];

    private static readonly string[] LostKeySteps = [AuditSigningKey.PendingTemporaryStep, "before-commit", "committed", "exported", AuditSigningKey.PublicWrittenStep];

    /// <summary>Every step of a registration, and the moment after it returned.</summary>
    public static TheoryData<string> RegistrationKillPoints() => [.. ModelRegistry.RegistrationSteps, "after"];

    // RELIABILITY LOG-4, MRM-3: the step lists above are the library's: a step the library gains shows up here, and this
    // checks that the host meets every one of them, in order, in a rotation, a registration and a lost-key epoch that are
    // not killed.
    [Fact]
    public void TheHostReachesEveryNamedStep_InOrder()
    {
        if (OperatingSystem.IsWindows()) return; // SIGKILL is POSIX's
        Assert.Equal(0, Host("append", Home, "4", "3").ExitCode);
        var rotation = Host("rotate", Home, "4", "-");
        Assert.Equal(0, rotation.ExitCode);
        Assert.Equal([.. AuditLog.RotationSteps, "after"], rotation.Steps);
        var registration = Host("register", Home, "4", "-", ModelFolder());
        Assert.Equal(0, registration.ExitCode);
        Assert.Equal([.. ModelRegistry.RegistrationSteps, "after"], registration.Steps);
        File.Delete(KeyPath);
        var lost = Host("lost-key", Home, "4", "-");
        Assert.Equal(0, lost.ExitCode);
        Assert.Equal([.. LostKeySteps, "after"], lost.Steps);
    }

    // RELIABILITY LOG-4 (key rotation)
    [Theory]
    [MemberData(nameof(RotationKillPoints))]
    public void KillNine_AtEachRotationStep_TheLogVerifiesOnTheRightKey_AndTheNextAppendWorks(string step)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(0, Host("append", Home, "4", "5").ExitCode);
        var oldId = KeyIdOf(KeyPath);
        var verifierCopy = Path.Combine(_scratch, "old.pub.pem"); // the copy a verifier holds, off the writer's reach
        File.Copy(PublicPath, verifierCopy);

        var run = Host("rotate", Home, "4", step);
        Assert.True(Killed == run.ExitCode, $"not killed at {step} (exit {run.ExitCode}): {run.Stderr}");
        Assert.Equal(step, run.Steps[^1]);
        var committed = step == "after" || AuditLog.RotationSteps.ToList().IndexOf(step) >= AuditLog.RotationSteps.ToList().IndexOf("committed");

        // (c) nothing half-written: every key file parses, no temporary file is left in the keys folder or the home but,
        // killed inside the pending key's write, its temporary (whole: flushed before the rename), which the next key write removes
        AssertTemporariesAfterAKillAt(step);
        var privateId = KeyIdOf(KeyPath);
        var publicId = PublicKeyIdOf(PublicPath);
        string? pendingId = File.Exists(PendingPath) ? KeyIdOf(PendingPath) : null;
        var retiredFolder = Path.Combine(_t.Home.KeysFolder, AuditSigningKey.RetiredFolderName);
        foreach (var retired in Directory.Exists(retiredFolder) ? Directory.GetFiles(retiredFolder) : []) Assert.Equal(oldId, PublicKeyIdOf(retired));

        // (a) verify names the right key state: the old key before the commit, the rotation to the new key after it
        var v = _t.Verify();
        Assert.True(v.Ok, $"killed at {step}: {v.Message}");
        var withCopy = _t.Verify(verifierCopy);
        Assert.True(withCopy.Ok, $"killed at {step}, verified with the old public key: {withCopy.Message}");
        string currentId;
        if (committed)
        {
            var change = Assert.Single(v.KeyChanges);
            Assert.True(change.SignedByOldKey);
            Assert.Equal(oldId, change.OldKeyId);
            Assert.Equal(6, v.Entries);
            Assert.Contains($"rotated {oldId} → {change.NewKeyId} at entry 6", v.Message, StringComparison.Ordinal);
            currentId = change.NewKeyId;
            // the new key is in the pending file (before the rename) or in place (after it); the old private key is not kept
            Assert.Equal(currentId, pendingId ?? privateId);
            if (pendingId is null) Assert.Equal(currentId, publicId);
        }
        else
        {
            Assert.Empty(v.KeyChanges);
            Assert.Equal(5, v.Entries);
            Assert.Equal(oldId, privateId);
            Assert.Equal(oldId, publicId);
            currentId = oldId;
        }

        // (b) the next append from a fresh process works (finishing a committed rotation, ignoring an uncommitted one) and verifies
        var next = Host("append", Home, "4", "1");
        Assert.True(next.ExitCode == 0, $"after a kill at {step}: {next.Stderr}");
        Assert.Equal([committed ? 7 : 6], next.Seqs);
        Assert.Equal(currentId, KeyIdOf(KeyPath));
        Assert.Equal(currentId, PublicKeyIdOf(PublicPath));
        if (committed) Assert.False(File.Exists(PendingPath), "the committed rotation's pending key was not finished");
        var after = _t.Verify();
        Assert.True(after.Ok, after.Message);
        Assert.Equal(committed ? 1 : 0, after.KeyChanges.Count);
        Assert.True(_t.Verify(verifierCopy).Ok);

        // and a later rotation replaces an ignored pending key: the log then holds exactly the rotations that committed
        Assert.Equal(0, Host("rotate", Home, "4", "-").ExitCode);
        Assert.False(File.Exists(PendingPath));
        var last = _t.Verify(verifierCopy);
        Assert.True(last.Ok, last.Message);
        Assert.Equal(committed ? 2 : 1, last.KeyChanges.Count);
        Assert.Equal(last.KeyChanges[^1].NewKeyId, KeyIdOf(KeyPath));
        AssertNoTemporaries();
    }

    // RELIABILITY LOG-4 (lost-key epoch)
    [Theory]
    [MemberData(nameof(LostKeyKillPoints))]
    public void KillNine_AtEachLostKeyEpochStep_TheLogVerifies_AndTheNextAppendWorks(string step)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(0, Host("append", Home, "4", "5").ExitCode);
        var oldId = KeyIdOf(KeyPath);
        File.Delete(KeyPath); // lost for good; its public half stays beside it

        var run = Host("lost-key", Home, "4", step);
        Assert.True(Killed == run.ExitCode, $"not killed at {step} (exit {run.ExitCode}): {run.Stderr}");
        Assert.Equal(step, run.Steps[^1]);
        var committed = step is not ("before-commit" or AuditSigningKey.PendingTemporaryStep);
        AssertTemporariesAfterAKillAt(step);

        var v = _t.Verify();
        Assert.True(v.Ok, $"killed at {step}: {v.Message}");
        if (committed)
        {
            var broken = Assert.Single(v.KeyBreaks);
            Assert.Equal(oldId, broken.OldKeyId);
            Assert.Equal(broken.NewKeyId, File.Exists(PendingPath) ? KeyIdOf(PendingPath) : KeyIdOf(KeyPath));
        }
        else
        {
            Assert.Empty(v.KeyChanges);
            Assert.False(File.Exists(KeyPath)); // still lost: nothing took its place
        }

        if (!committed)
        {
            // an uncommitted epoch is started again (its stale pending key replaced)
            Assert.Equal(0, Host("lost-key", Home, "4", "-").ExitCode);
        }

        var next = Host("append", Home, "4", "1");
        Assert.True(next.ExitCode == 0, $"after a kill at {step}: {next.Stderr}");
        Assert.Equal([7], next.Seqs);
        Assert.False(File.Exists(PendingPath));
        var after = _t.Verify();
        Assert.True(after.Ok, after.Message);
        Assert.Equal(KeyIdOf(KeyPath), Assert.Single(after.KeyBreaks).NewKeyId);
        AssertNoTemporaries();
    }

    // RELIABILITY MRM-3, SVC-8 (registration)
    [Theory]
    [MemberData(nameof(RegistrationKillPoints))]
    public void KillNine_AtEachRegistrationStep_LeavesNoModelOrAWholeOne_AndTheNextRegistrationSucceeds(string step)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(0, Host("append", Home, "4", "2").ExitCode);
        var source = ModelFolder();
        var id = ModelRegistry.IdOf(source);

        var run = Host("register", Home, "4", step, source);
        Assert.True(Killed == run.ExitCode, $"not killed at {step} (exit {run.ExitCode}): {run.Stderr}");
        Assert.Equal(step, run.Steps[^1]);

        // killed after its rename, the folder holds the pending marker; verify removes it once the entry is committed
        // (killed after its entry), never before (killed between its rename and its entry: the next registration's)
        var marker = Path.Combine(_t.Home.ModelsFolder, id, ModelRegistry.PendingMarkerName);
        Assert.Equal(step is "renamed" or "entered", File.Exists(marker));
        var v = _t.Verify();
        Assert.True(v.Ok, $"killed at {step}: {v.Message}");
        Assert.Equal(step is "renamed", File.Exists(marker));
        using (var log = _t.Open())
        {
            var registry = new ModelRegistry(_t.Home, log);
            if (step is "after" or "entered")
            {
                Assert.Equal(id, registry.Load(id).Id); // whole: both hashes check
                Assert.False(File.Exists(marker)); // killed after its entry: verify removed the marker it left
            }
            else
            {
                Assert.Empty(registry.List()); // no model: no entry, whatever the folder holds
            }
        }

        if (step is "after" or "entered")
        {
            var other = ModelFolder(seed: 9);
            var registered = Host("register", Home, "4", "-", other);
            Assert.True(registered.ExitCode == 0, $"after a kill at {step}: {registered.Stderr}");
            Assert.False(File.Exists(Path.Combine(_t.Home.ModelsFolder, id, ModelRegistry.PendingMarkerName)));
            Assert.Equal(new[] { id, ModelRegistry.IdOf(other) }.Order(StringComparer.Ordinal),
                Directory.GetDirectories(_t.Home.ModelsFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.True(_t.Verify().Ok);
            return;
        }

        var next = Host("register", Home, "4", "-", source);
        Assert.True(next.ExitCode == 0, $"after a kill at {step}: {next.Stderr}");
        using (var log = _t.Open())
        {
            var registry = new ModelRegistry(_t.Home, log);
            Assert.Equal(id, Assert.Single(registry.List()).Id);
            Assert.Equal(id, registry.Load(id).Id);
        }

        // the dead registration's staging copy is gone too (a model's weights can be large): only the model and the lock remain
        Assert.Equal([id], Directory.GetDirectories(_t.Home.ModelsFolder).Select(Path.GetFileName));
        Assert.True(_t.Verify().Ok);
    }

    // RELIABILITY MRM-3 and the lost-log rule (AuditLog.ThrowIfLost): a NEW home (a log without entries) whose very first
    // registration is killed between its rename and its entry holds a model folder and no entry, which without the pending
    // marker is what a deleted log looks like (session 22 refused it with AUDIT-E-LOST). The folder holds the marker, so the
    // home opens and verifies, the next registration replaces the folder and is entry 1, and once it is registered (marker
    // removed) a deleted log is refused again: the rule's protection is intact.
    [Fact]
    public void KillNine_BetweenTheRenameAndTheEntry_OfANewHomesFirstRegistration_IsRecovered_AndALostLogIsStillRefused()
    {
        if (OperatingSystem.IsWindows()) return;
        var source = ModelFolder();
        var id = ModelRegistry.IdOf(source);
        Assert.Equal(Killed, Host("register", Home, "4", "renamed", source).ExitCode);
        Assert.True(File.Exists(Path.Combine(_t.Home.ModelsFolder, id, ModelRegistry.PendingMarkerName)));

        var v = _t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(0, v.Entries);
        AuditLog.ThrowIfLost(_t.Home);
        var next = Host("register", Home, "4", "-", source);
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Equal([1], next.Seqs);
        Assert.Equal([id], Directory.GetDirectories(_t.Home.ModelsFolder).Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(_t.Home.ModelsFolder, id, ModelRegistry.PendingMarkerName)));
        var after = _t.Verify();
        Assert.True(after.Ok, after.Message);
        Assert.Equal(1, after.Entries);

        // the registered folder is evidence of its entry again: the log deleted with its checkpoint file is refused
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in Directory.GetFiles(Home, "audit.db*")) File.Delete(f);
        File.Delete(_t.Home.AuditCheckpoints);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<Crucible.Data.InvalidInputException>(() => AuditLog.ThrowIfLost(_t.Home)).Rule);
        Assert.Equal(AuditProblem.Truncation, _t.Verify().Problem);
    }

    // RELIABILITY MRM-3: a killed registration's model folder (marked, no entry) is not left behind when the next
    // registration is of another model: under the registration lock it is a dead registration's, and removed
    [Fact]
    public void KillNine_BetweenTheRenameAndTheEntry_TheNextRegistrationOfAnotherModel_RemovesTheDeadFolder()
    {
        if (OperatingSystem.IsWindows()) return;
        var first = ModelFolder();
        Assert.Equal(Killed, Host("register", Home, "4", "renamed", first).ExitCode);
        var second = ModelFolder(seed: 8);
        var secondId = ModelRegistry.IdOf(second);
        var next = Host("register", Home, "4", "-", second);
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Equal([1], next.Seqs);
        Assert.Equal([secondId], Directory.GetDirectories(_t.Home.ModelsFolder).Select(Path.GetFileName));
        Assert.True(_t.Verify().Ok);
    }

    // RELIABILITY MRM-2 and the lost-log rule: a NEW home whose very first run is killed between writing its run manifest
    // and its run.completed entry holds a manifest in runs/ and no entry; its pending marker says so, so the home opens and
    // the next run is entry 1; killed after the entry and before the marker's removal, the next run removes the stale
    // marker; and the manifest of a recorded run is evidence again: the log deleted with its checkpoint file is refused
    [Theory]
    [InlineData("run-written")]
    [InlineData("run-entered")]
    public void KillNine_BetweenANewHomesFirstRunManifestAndItsEntry_IsRecovered_AndALostLogIsStillRefused(string step)
    {
        if (OperatingSystem.IsWindows()) return;
        var run = Host("run", Home, "4", step);
        Assert.True(Killed == run.ExitCode, $"not killed at {step} (exit {run.ExitCode}): {run.Stderr}");
        Assert.Equal(step, run.Steps[^1]);
        var runs = _t.Home.RunsFolder;
        var first = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(runs, "*.json")));
        Assert.True(File.Exists(Crucible.Governance.Manifests.RunManifests.PendingMarkerPath(_t.Home, first)));
        Assert.True(_t.Verify().Ok);
        // a verifying log removes the marker of the run it recorded (killed after its entry), never one without its entry
        Assert.Equal(step == "run-written", File.Exists(Crucible.Governance.Manifests.RunManifests.PendingMarkerPath(_t.Home, first)));
        AuditLog.ThrowIfLost(_t.Home);

        var next = Host("run", Home, "4", "-");
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Equal([step == "run-entered" ? 2 : 1], next.Seqs);
        // a marker is left only by the run killed before its entry (its manifest is unpinned: verify-run says so)
        var markers = Directory.GetFiles(runs, ".*" + Crucible.Governance.Manifests.RunManifests.PendingSuffix).Select(Path.GetFileName).ToList();
        Assert.Equal(step == "run-written" ? ["." + first + ".pending"] : [], markers);
        Assert.True(_t.Verify().Ok);

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in Directory.GetFiles(Home, "audit.db*")) File.Delete(f);
        File.Delete(_t.Home.AuditCheckpoints);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<Crucible.Data.InvalidInputException>(() => AuditLog.ThrowIfLost(_t.Home)).Rule);
    }

    /// <summary>Every step of a replica's write of a registered model's folder from the shared PostgreSQL store.</summary>
    public static TheoryData<string> MaterialiseKillPoints() => [.. ModelRegistry.MaterialiseSteps];

    // RELIABILITY MRM-3, SVC-8 on PostgreSQL: a replica killed while it writes a registered model's folder from the shared
    // store (its first load of the model) leaves a staging copy (a whole model's weights); the next load writes the folder
    // and removes the dead copy under the materialise lock, leaving only the model folder
    [Theory]
    [MemberData(nameof(MaterialiseKillPoints))]
    public void KillNine_WhileAReplicaWritesARegisteredModelFromTheSharedStore_TheNextLoadLeavesOnlyTheModel(string step)
    {
        if (OperatingSystem.IsWindows()) return;
        using var db = Crucible.Tests.Postgres.TestPostgres.CreateDatabase();
        var a = CrucibleHome.Resolve(Path.Combine(_scratch, "replica-a")).EnsureExists();
        var b = CrucibleHome.Resolve(Path.Combine(_scratch, "replica-b")).EnsureExists();
        AuditLogOptions Options(CrucibleHome h) => new()
        {
            PostgresConnectionString = db.ConnectionString,
            SigningKeyPath = Path.Combine(h.KeysFolder, AuditSigningKey.PrivateFileName),
            CheckpointFile = h.AuditCheckpoints,
            CheckpointInterval = Interval,
            DefaultActor = "test",
        };

        var source = ModelFolder();
        string id;
        using (var la = AuditLog.Open(Options(a))) id = new ModelRegistry(a, la).Register(source).Id;
        Directory.CreateDirectory(b.KeysFolder);
        File.Copy(Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName), Path.Combine(b.KeysFolder, AuditSigningKey.PrivateFileName)); // one key for every replica

        var run = Host("load", b.Root, "4", step, id, db.ConnectionString);
        Assert.True(Killed == run.ExitCode, $"not killed at {step} (exit {run.ExitCode}): {run.Stderr}");
        Assert.Equal(step, run.Steps[^1]);
        Assert.StartsWith(".staging-", Path.GetFileName(Assert.Single(Directory.GetDirectories(b.ModelsFolder))), StringComparison.Ordinal);

        var next = Host("load", b.Root, "4", "-", id, db.ConnectionString);
        Assert.True(next.ExitCode == 0, $"after a kill at {step}: {next.Stderr}");
        Assert.Equal([id], Directory.GetDirectories(b.ModelsFolder).Select(Path.GetFileName));
        using var lb = AuditLog.Open(Options(b));
        Assert.Equal(id, new ModelRegistry(b, lb).Load(id).Id); // both hashes check
    }

    // RELIABILITY LOG-4 with key rotations: appends with a rotation after every 5th, killed at seeded random points; after every kill the
    // log verifies on its current key and holds every acknowledged entry (rotations included), and the next writer opens it
    [Fact]
    public void KillNine_AtRandomPoints_OfAppendsAndRotations_EveryAcknowledgedEntrySurvives()
    {
        if (OperatingSystem.IsWindows()) return;
        var rng = new System.Random(2222);
        var acked = new HashSet<long>();
        for (var k = 0; k < Rounds(); k++)
        {
            using var p = Start("churn", Home, "4", "1000000", "5");
            var read = 0;
            var killAfter = rng.Next(1, 25);
            while (read < killAfter && p.StandardOutput.ReadLine() is { } line)
            {
                if (Record(line)) read++;
            }

            if (read == 0 && k == 0) Assert.Fail("the host printed nothing: " + p.StandardError.ReadToEnd());
            SpinFor(rng.NextDouble() * 3.0); // land the kill inside an append, a rotation or an export
            p.Kill();
            p.WaitForExit();
            if (p.ExitCode != Killed) Assert.Fail($"round {k + 1}: the host ended by itself (exit {p.ExitCode}): {p.StandardError.ReadToEnd()}");
            foreach (var line in p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)) Record(line);

            // a kill inside a key file's write leaves its temporary (the next key write removes it, checked below); nothing else does
            var left = Directory.EnumerateFiles(Home, "*.tmp", SearchOption.AllDirectories).Where(f => Path.GetDirectoryName(f) != _t.Home.KeysFolder && !f.Contains("/retired/", StringComparison.Ordinal)).ToList();
            Assert.True(left.Count == 0, $"after kill {k + 1}, left behind: {string.Join(", ", left)}");
            var v = _t.Verify();
            Assert.True(v.Ok, $"after kill {k + 1}: {v.Message}");
            Assert.True(v.Entries >= acked.Max(), $"after kill {k + 1}: {v.Entries} entries but seq {acked.Max()} was acknowledged");
        }

        var next = Host("append", Home, "4", "1");
        Assert.True(next.ExitCode == 0, next.Stderr);
        var rotated = Host("rotate", Home, "4", "-");
        Assert.True(rotated.ExitCode == 0, rotated.Stderr);
        AssertNoTemporaries(); // the next rotation removed what killed key writes left
        var final = _t.Verify();
        Assert.True(final.Ok, final.Message);
        Assert.NotEmpty(final.KeyChanges);
        using var log = _t.Open();
        Assert.Subset(log.List().Select(e => e.Seq).ToHashSet(), acked);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Rounds()} SIGKILLs; {acked.Count} acknowledged entries, all present; {final.Entries} entries and {final.KeyChanges.Count} key rotations verified"));

        bool Record(string line)
        {
            if (!line.StartsWith("seq ", StringComparison.Ordinal)) return false;
            Assert.True(acked.Add(long.Parse(line.AsSpan(4), CultureInfo.InvariantCulture)), $"{line} acknowledged twice");
            return true;
        }
    }

    // RELIABILITY SVC-8, AtomicFile: a 1 MiB file replaced over and over, killed at seeded random points, is always one whole version:
    // the last acknowledged one or the next, never a torn mix; the temporaries a kill leaves are what DeleteStaleTemporaries removes
    [Fact]
    public void KillNine_AtRandomPoints_OfAtomicFileReplacements_LeavesOneWholeVersion()
    {
        if (OperatingSystem.IsWindows()) return;
        const int size = 1 << 20;
        var path = Path.Combine(_scratch, "state.bin");
        var rng = new System.Random(3333);
        long previous = 0; // the version the file held before this round (each round starts again at version 1)
        long versions = 0;
        var temporaries = 0;
        for (var k = 0; k < Rounds(); k++)
        {
            long lastAcked = 0;
            using var p = Start("atomic", path, "1000000", size.ToString(CultureInfo.InvariantCulture));
            var read = 0;
            var killAfter = rng.Next(1, 6);
            while (read < killAfter && p.StandardOutput.ReadLine() is { } line)
            {
                lastAcked = Math.Max(lastAcked, long.Parse(line.AsSpan("version ".Length), CultureInfo.InvariantCulture));
                read++;
            }

            SpinFor(rng.NextDouble() * 5.0);
            p.Kill();
            p.WaitForExit();
            if (p.ExitCode != Killed) Assert.Fail($"round {k + 1}: the host ended by itself (exit {p.ExitCode}): {p.StandardError.ReadToEnd()}");
            foreach (var line in p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                lastAcked = Math.Max(lastAcked, long.Parse(line.AsSpan("version ".Length), CultureInfo.InvariantCulture));

            var bytes = File.ReadAllBytes(path);
            Assert.Equal(size, bytes.Length);
            var version = BitConverter.ToInt64(bytes, 0);
            for (var i = 0; i < size; i += 8) Assert.True(version == BitConverter.ToInt64(bytes, i), $"after kill {k + 1}: a torn file at byte {i}");
            // the last acknowledged version or the one being written; before this round's first acknowledgement, the
            // previous round's file or version 1
            if (lastAcked > 0) Assert.InRange(version, lastAcked, lastAcked + 1);
            else Assert.True(version == previous || version == 1, $"after kill {k + 1}: version {version}, but the file held {previous}");
            previous = version;
            temporaries += AtomicFile.DeleteStaleTemporaries(path);
            Assert.Equal(["state.bin"], Directory.GetFiles(_scratch).Select(Path.GetFileName));
            versions += Math.Max(lastAcked, 0);
        }

        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Rounds()} SIGKILLs; {versions} acknowledged replacements; the file was one whole version after every kill; {temporaries} temporaries left by kills, removed"));
    }

    // the kill rounds of the random-delay tests: CRUCIBLE_KILL_ROUNDS, default 10 (RELIABILITY asks for 200 on demand)
    private static int Rounds() =>
        int.TryParse(Environment.GetEnvironmentVariable("CRUCIBLE_KILL_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var asked) && asked > 0
            ? asked
            : 10;

    private static void SpinFor(double milliseconds)
    {
        var spin = Stopwatch.StartNew();
        while (spin.Elapsed.TotalMilliseconds < milliseconds) Thread.SpinWait(10);
    }

    // after a kill at a step: none, or at the pending key's temporary step exactly its temporary file, holding a whole key
    private void AssertTemporariesAfterAKillAt(string step)
    {
        if (step != AuditSigningKey.PendingTemporaryStep)
        {
            AssertNoTemporaries();
            return;
        }

        var left = Assert.Single(Directory.GetFiles(Home, "*.tmp", SearchOption.AllDirectories));
        Assert.StartsWith("." + AuditSigningKey.PendingFileName + ".", Path.GetFileName(left), StringComparison.Ordinal);
        _ = KeyIdOf(left);
    }

    // no AtomicFile or key temporary left in the home or its keys folder (a kill at a step lands between whole-file writes)
    private void AssertNoTemporaries()
    {
        var left = Directory.EnumerateFiles(Home, "*.tmp", SearchOption.AllDirectories).ToList();
        Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left));
    }

    // a model folder outside the home (weights and manifest)
    private string ModelFolder(int seed = 7)
    {
        var folder = Path.Combine(_scratch, "model-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, ModelRegistry.WeightsFileName), Enumerable.Range(0, 200_000).Select(i => (byte)((i * 31) + seed - 7)).ToArray());
        File.WriteAllText(Path.Combine(folder, ModelRegistry.ManifestFileName), "{\"kind\":\"tabular\",\"seed\":" + seed.ToString(CultureInfo.InvariantCulture) + "}");
        return folder;
    }

    private static string KeyIdOf(string privateKeyPath)
    {
        using var key = AuditSigningKey.LoadPrivate(privateKeyPath);
        return key.KeyId;
    }

    private static string PublicKeyIdOf(string publicKeyPath)
    {
        using var key = AuditSigningKey.LoadPublic(publicKeyPath);
        return key.KeyId;
    }

    private sealed record HostRun(int ExitCode, List<string> Steps, List<long> Seqs, string Stderr);

    // runs the host to its end (or its own kill); its lines are read whole, so every line it printed before dying is here
    private static HostRun Host(params string[] args)
    {
        using var p = Start(args);
        var stderr = new StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data);
        };
        p.BeginErrorReadLine();
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        p.WaitForExit();
        return new HostRun(p.ExitCode,
            [.. lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)).Select(l => l["step ".Length..])],
            [.. lines.Where(l => l.StartsWith("seq ", StringComparison.Ordinal)).Select(l => long.Parse(l.AsSpan(4), CultureInfo.InvariantCulture))],
            stderr.ToString());
    }

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crucible.CrashHost.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_TieredPGO"] = "0";
        return Process.Start(start)!;
    }
}
