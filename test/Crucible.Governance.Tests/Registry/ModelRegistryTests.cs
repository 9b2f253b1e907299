using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;
using Crucible.Governance.Tests.Audit;

namespace Crucible.Governance.Tests.Registry;

public sealed class ModelRegistryTests : IDisposable
{
    private readonly AuditTestHome _t = new(checkpointInterval: 4);
    private readonly string _source = Path.Combine(Path.GetTempPath(), "crucible-model-src-" + Guid.NewGuid().ToString("N"));

    public ModelRegistryTests()
    {
        Directory.CreateDirectory(_source);
        File.WriteAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName), """{"kind":"tabular","seed":1}""");
    }

    private readonly List<string> _sameWeights = [];

    public void Dispose()
    {
        _t.Dispose();
        Directory.Delete(_source, recursive: true);
        foreach (var folder in _sameWeights) Directory.Delete(folder, recursive: true);
    }

    // another model folder with _source's weights, its manifest the test's to write; removed with the test's folders
    private string SameWeights(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"crucible-model-{name}-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        _sameWeights.Add(folder);
        File.Copy(Path.Combine(_source, ModelRegistry.WeightsFileName), Path.Combine(folder, ModelRegistry.WeightsFileName));
        return folder;
    }

    private string ExpectedId => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName))));

    // RELIABILITY MRM-3
    [Fact]
    public void Register_IdIsWeightsSha256_FolderIsCopied_EntryIsLogged()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source, "alice");
        Assert.Equal(ExpectedId, m.Id);
        Assert.Equal(ModelStatus.Candidate, m.Status);
        Assert.Equal(Path.Combine(_t.Home.ModelsFolder, m.Id), m.Folder);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName)), File.ReadAllBytes(m.WeightsPath));
        var entry = log.List().Single();
        Assert.Equal("model.registered", entry.Kind);
        Assert.Equal("alice", entry.Actor);
        Assert.Contains(m.Id, entry.Payload, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(_t.Home.ModelsFolder, ".registering-*"));
        Assert.Equal(m.Id, registry.Load(m.Id).Id);
    }

    [Theory]
    [InlineData("folder-deleted", "its folder is missing")]
    [InlineData("weights-deleted", "weights.safetensors is missing")]
    [InlineData("weights-changed", "weights.safetensors was changed")]
    [InlineData("manifest-changed", "manifest.json is not the one registered")]
    public void FilesProblem_NamesWhatListingFromTheLogAloneHides(string damage, string says)
    {
        // List() reads the log only: a model whose folder is gone or whose files were changed is listed as if sound,
        // while Load refuses it (REG-E-HASH); FilesProblem says why, and is null for sound files
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        Assert.Null(registry.FilesProblem(m));
        switch (damage)
        {
            case "folder-deleted":
                Directory.Delete(m.Folder, recursive: true);
                break;
            case "weights-deleted":
                File.Delete(m.WeightsPath);
                break;
            case "weights-changed":
                File.AppendAllText(m.WeightsPath, "x");
                break;
            default:
                File.WriteAllText(m.ManifestPath, """{"kind":"tabular","seed":2}""");
                break;
        }

        var listed = Assert.Single(registry.List());
        Assert.Equal(ModelStatus.Candidate, listed.Status); // the log's answer, unchanged
        Assert.Contains(says, registry.FilesProblem(listed), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_TakesTheIdOrAPrefixOfEightDigitsOrMore_AndRefusesTheRest()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        Assert.Equal(m.Id, registry.Resolve(m.Id).Id);
        Assert.Equal(m.Id, registry.Resolve(m.Id[..8]).Id);
        Assert.Equal(m.Id, registry.Resolve("  " + m.Id[..12].ToUpperInvariant() + " ").Id);
        var other = m.Id[0] == '0' ? "1" : "0";
        foreach (var (given, says) in new[]
                 {
                     (m.Id[..7], "is not a model id (64 hex digits) or a prefix of at least 8"),
                     ("zz" + m.Id[2..10], "is not a model id"),
                     (other + m.Id[1..10], "no registered model " + other + m.Id[1..10]),
                 })
        {
            var e = Assert.Throws<InvalidInputException>(() => registry.Resolve(given));
            Assert.Equal(ModelRegistry.UnknownRule, e.Rule);
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
        }
    }

    // RELIABILITY MRM-3
    [Fact]
    public void Register_SameFolderTwice_IsExists_AndNothingIsOverwritten()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        var e = Assert.Throws<InvalidInputException>(() => registry.Register(_source));
        Assert.Equal("REG-E-EXISTS", e.Rule);
        var (again, isNew) = registry.RegisterOrFind(_source);
        Assert.False(isNew);
        Assert.Equal(m.RegisteredSeq, again.RegisteredSeq);
        Assert.Single(log.List());
    }

    // RELIABILITY MRM-3
    [Fact]
    public void Register_SameWeightsOtherManifest_IsConflict_ForRegisterAndRegisterOrFind()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        // another model folder: the same weights, another manifest (another transform state, or a hand edit)
        var other = SameWeights("other");
        File.WriteAllText(Path.Combine(other, ModelRegistry.ManifestFileName), """{"kind":"tabular","seed":1,"transform":{"scale":2}}""");
        Assert.Equal(m.Id, ModelRegistry.IdOf(other));
        var e = Assert.Throws<ModelConflictException>(() => registry.Register(other));
        Assert.Equal("REG-E-CONFLICT", e.Rule);
        Assert.Contains(m.ManifestSha256[..16], e.Message, StringComparison.Ordinal);
        Assert.Equal("REG-E-CONFLICT", Assert.Throws<ModelConflictException>(() => registry.RegisterOrFind(other)).Rule);

        Assert.Equal("""{"kind":"tabular","seed":1}""", File.ReadAllText(m.ManifestPath));
        Assert.Single(log.List());
    }

    /// <summary>
    /// Session 21: a --withhold-prices twin (no data.last_prices) of a registered model with the same weights stays another
    /// model (answered as the registered one, it would hand out the prices its training withheld), and the refusal now
    /// says in which keys the manifests differ and why withheld prices are no provenance.
    /// </summary>
    [Fact]
    public void Register_AWithheldPricesTwin_IsAConflict_NamingTheKeysAndWhy()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var twin = SameWeights("withheld");
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName),
            """{"kind":"sequence","seed":1,"data":{"input_file":"prices.csv","input_sha256":"ab","last_prices":{"A":101.5,"B":99}}}""");
        var plain = registry.Register(_source);
        File.WriteAllText(Path.Combine(twin, ModelRegistry.ManifestFileName),
            """{"kind":"sequence","seed":1,"data":{"input_file":"other.csv","input_sha256":"ab"}}""");
        // session 29: the option that withholds the prices in the library's words (the manifest's record of it), and as
        // each shell names it (train --withhold-prices, a training job's withhold_prices), rule and location kept
        var e = Assert.Throws<ModelConflictException>(() => registry.RegisterOrFind(twin));
        Assert.Equal(ModelRegistry.ConflictRule, e.Rule);
        const string Why = "answered as one model, the registered copy would give the prices the other was trained to withhold, or lack those it records); "
            + "the id is the weights' hash, so it cannot name both";
        Assert.EndsWith("input file names: they differ in data.last_prices; data.last_prices is the train's last prices, which one of the two withholds "
            + "(data.last_prices_withheld): " + Why, e.Message, StringComparison.Ordinal);
        var worded = e.Worded("withhold_prices");
        Assert.Equal((e.Rule, e.Location), (worded.Rule, worded.Location));
        Assert.Equal(e.Message.Replace("(data.last_prices_withheld)", "(withhold_prices)", StringComparison.Ordinal), worded.Message);
        Assert.Throws<ModelConflictException>(() => registry.Register(twin));
        Assert.Contains("""{"A":101.5,"B":99}""", File.ReadAllText(plain.ManifestPath), StringComparison.Ordinal);

        Assert.Single(log.List());
    }

    [Fact]
    public void DifferingKeys_AreTheLeavesBeyondProvenance_InOrder()
    {
        static byte[] B(string json) => System.Text.Encoding.UTF8.GetBytes(json);
        Assert.Equal(["config.guidance_scale", "data.last_prices", "transform"],
            ModelRegistry.DifferingKeys(
                B("""{"library_version":"1","config":{"guidance_scale":2,"window":5},"data":{"input_file":"a.csv","last_prices":{"A":1}},"transform":[1,2]}"""),
                B("""{"library_version":"2","config":{"window":5,"guidance_scale":4},"data":{"input_file":"b.csv"},"transform":[1,3]}""")));
        Assert.Empty(ModelRegistry.DifferingKeys(B("""{"a":{"b":1.0}}"""), B("""{"a":{"b":1.0}}""")));
        Assert.Empty(ModelRegistry.DifferingKeys(B("[1]"), B("""{"a":1}""")));
    }

    [Fact]
    public void AManifestWithADuplicateMember_IsNoModelsManifest_NotACrash()
    {
        static byte[] B(string json) => System.Text.Encoding.UTF8.GetBytes(json);
        const string Duplicated = """{"kind":"tabular","seed":1,"seed":2}""";
        Assert.False(ModelRegistry.SameModel(B("""{"kind":"tabular","seed":1}"""), B(Duplicated)));
        Assert.Empty(ModelRegistry.DifferingKeys(B("""{"kind":"tabular","seed":1}"""), B(Duplicated)));

        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        registry.Register(_source);
        var twin = SameWeights("dup");
        // the same weights with a hand-edited manifest that names a member twice: bad input, named by file
        File.WriteAllText(Path.Combine(twin, ModelRegistry.ManifestFileName), Duplicated);
        var e = Assert.Throws<InvalidInputException>(() => registry.RegisterOrFind(twin));
        Assert.Equal("REG-E-FOLDER", e.Rule);
        Assert.Equal(Path.Combine(twin, ModelRegistry.ManifestFileName), e.Location?.File);

        Assert.Single(log.List());
    }

    [Fact]
    public void Register_SameWeightsManifestDifferingOnlyInProvenance_IsTheSameModel()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var other = SameWeights("prov");
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName),
            """{"kind":"tabular","library_version":"0.1.0+aaa","seed":1,"data":{"input_file":"prices.csv","input_sha256":"ab"}}""");
        var m = registry.Register(_source);
        // trained again by a later version from a renamed copy of the file: only provenance differs (key order too)
        File.WriteAllText(Path.Combine(other, ModelRegistry.ManifestFileName),
            """{"seed":1,"kind":"tabular","library_version":"0.2.0+bbb","data":{"input_sha256":"ab","input_file":"copy.csv"}}""");
        var (found, isNew) = registry.RegisterOrFind(other);
        Assert.False(isNew);
        Assert.Equal(m.Id, found.Id);
        Assert.Equal("REG-E-EXISTS", Assert.Throws<InvalidInputException>(() => registry.Register(other)).Rule);
        // a difference beyond provenance (the data's hash) is still another model
        File.WriteAllText(Path.Combine(other, ModelRegistry.ManifestFileName),
            """{"seed":1,"kind":"tabular","library_version":"0.2.0+bbb","data":{"input_sha256":"cd","input_file":"prices.csv"}}""");
        Assert.Equal("REG-E-CONFLICT", Assert.Throws<ModelConflictException>(() => registry.RegisterOrFind(other)).Rule);

        Assert.Single(log.List());
    }

    [Fact]
    public void IdOf_IsTheWeightsSha256_WhateverTheCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("tr-TR");
            Assert.Equal(ExpectedId, ModelRegistry.IdOf(_source));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public async Task Register_WhileAnotherRegistrationIsBetweenItsRenameAndItsEntry_WaitsForTheEntry()
    {
        // two registries on one home (two processes' worth: each its own audit connection), the same model folder
        using var logA = _t.Open();
        using var logB = _t.Open();
        var a = new ModelRegistry(_t.Home, logA);
        var b = new ModelRegistry(_t.Home, logB);
        using var paused = new PausedRegistration(a, _source, "alice");
        Assert.True(Directory.Exists(Path.Combine(_t.Home.ModelsFolder, ExpectedId))); // the folder is in place, no entry yet
        bool entryWhenAnswered = false;
        var second = Task.Run(() =>
        {
            var answer = b.RegisterOrFind(_source, "bob");
            entryWhenAnswered = new ModelRegistry(_t.Home, logB).Find(ExpectedId) is not null;
            return answer;
        });
        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(500))); // it waits for the first registration's entry
        var registered = await paused.Release();
        var (found, isNew) = await second;
        Assert.False(isNew);
        Assert.True(entryWhenAnswered);
        Assert.Equal(registered.RegisteredSeq, found.RegisteredSeq);
        Assert.Equal("alice", found.Owner);
        Assert.Single(logA.List(), e => e.Kind == "model.registered");
    }

    [Fact]
    public void Register_AFolderWithoutAnEntry_LeftByACrashedRegistration_IsReplaced()
    {
        var target = Path.Combine(_t.Home.ModelsFolder, ExpectedId);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, ModelRegistry.WeightsFileName), "half");
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        Assert.Equal(target, m.Folder);
        Assert.Equal(m.Id, registry.Load(m.Id).Id);
        Assert.Empty(Directory.GetDirectories(_t.Home.ModelsFolder, ".unregistered-*"));
    }

    [Fact]
    public void Register_FromTheRegistrysOwnFolderWithoutAnEntry_KeepsItAndAppendsTheEntry()
    {
        // a registration that died before its entry left the folder; registering that very folder must not delete it
        var target = Path.Combine(_t.Home.ModelsFolder, ExpectedId);
        Directory.CreateDirectory(target);
        foreach (var name in new[] { ModelRegistry.WeightsFileName, ModelRegistry.ManifestFileName })
            File.Copy(Path.Combine(_source, name), Path.Combine(target, name));
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(target + Path.DirectorySeparatorChar);
        Assert.Equal(target, m.Folder);
        Assert.Equal(m.Id, registry.Load(m.Id).Id);
        Assert.Single(log.List());
        Assert.Equal("REG-E-EXISTS", Assert.Throws<InvalidInputException>(() => registry.Register(target)).Rule);
    }

    // RELIABILITY MRM-3, SVC-9
    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("manifest")]
    public void Load_ChangedFiles_AreRefused(string change)
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        switch (change)
        {
            case "flip":
                var bytes = File.ReadAllBytes(m.WeightsPath);
                bytes[1234] ^= 0x10;
                File.WriteAllBytes(m.WeightsPath, bytes);
                break;
            case "truncate":
                using (var f = new FileStream(m.WeightsPath, FileMode.Open)) f.SetLength(100);
                break;
            default:
                File.WriteAllText(m.ManifestPath, """{"kind":"tabular","seed":9}""");
                break;
        }

        var e = Assert.Throws<InvalidInputException>(() => registry.Load(m.Id));
        Assert.Equal("REG-E-HASH", e.Rule);
    }

    // RELIABILITY MRM-10
    [Fact]
    public void StatusChanges_FollowTheLifeCycle_EachIsAnAuditEntry()
    {
        string id;
        using (var log = _t.Open())
        {
            var registry = new ModelRegistry(_t.Home, log);
            id = registry.Register(_source).Id;
            var evidence = RecordedEvaluation.Of(_t.Home, log, id);
            Assert.Equal("REG-E-TRANSITION", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Promoted, "skip")).Rule);
            Assert.Equal("REG-E-EVIDENCE", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Validated, "no report")).Rule);
            Assert.Equal(ModelStatus.Validated, registry.ChangeStatus(id, ModelStatus.Validated, "all metrics PASS", evidence, "validator").Status);
            Assert.Equal(ModelStatus.Promoted, registry.ChangeStatus(id, ModelStatus.Promoted, "approved by committee", actor: "approver").Status);
            var retired = registry.RecordStatusChange(id, ModelStatus.Retired, "superseded");
            Assert.Equal(ModelStatus.Retired, retired.Model.Status);
            Assert.Equal("REG-E-TRANSITION", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Promoted, "again")).Rule);
            Assert.Equal("REG-E-UNKNOWN", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(new string('b', 64), ModelStatus.Retired, "x")).Rule);
            Assert.Equal(ModelStatus.Retired, registry.List().Single().Status);

            var changes = log.List().Where(e => e.Kind == "model.status_changed").ToList();
            Assert.Equal(3, changes.Count);
            using var first = JsonDocument.Parse(changes[0].Payload);
            Assert.Equal("candidate", first.RootElement.GetProperty("from").GetString());
            Assert.Equal("validated", first.RootElement.GetProperty("to").GetString());
            Assert.Equal(evidence, first.RootElement.GetProperty("evidence_sha256").GetString());
            Assert.Equal("validator", changes[0].Actor);
            // the receipt answered is the entry that records the change (the last one here)
            Assert.Equal(changes[^1].Seq, retired.Receipt.Seq);
            Assert.Equal(changes[^1].EntryHashHex, retired.Receipt.EntryHash);
        }

        Assert.True(AuditLog.Verify(_t.Home).Ok);
        // The status lives in the audit log: a fresh registry over the same home sees it.
        using var again = _t.Open();
        Assert.Equal(ModelStatus.Retired, new ModelRegistry(_t.Home, again).Find(id)!.Status);
    }

    [Fact]
    public void Register_AManifestOver64MiB_IsRefusedBySize_BeforeItIsRead()
    {
        // session 24 (security review): a model folder is untrusted; the file is sparse, nothing of it is written
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var manifest = Path.Combine(_source, ModelRegistry.ManifestFileName);
        using (var stream = new FileStream(manifest, FileMode.Create, FileAccess.Write)) stream.SetLength(ModelRegistry.MaxManifestBytes + 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidInputException>(() => registry.Register(_source));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (8L << 20), "the registry read the oversized manifest");
        Assert.Equal("REG-E-FOLDER", e.Rule);
        Assert.Contains($"{ModelRegistry.MaxManifestBytes + 1} bytes, more than the {ModelRegistry.MaxManifestBytes}", e.Message, StringComparison.Ordinal);
        Assert.Empty(log.List());
    }

    [Fact]
    public void Register_MissingFileOrBadManifest_IsBadInput()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName), "{not json");
        Assert.Equal("REG-E-FOLDER", Assert.Throws<InvalidInputException>(() => registry.Register(_source)).Rule);
        File.Delete(Path.Combine(_source, ModelRegistry.ManifestFileName));
        Assert.Equal("REG-E-FOLDER", Assert.Throws<InvalidInputException>(() => registry.Register(_source)).Rule);
        Assert.Empty(log.List());
    }

    [Fact]
    public async Task APromotionAndARetirementAtOnce_DoNotBringTheRetiredModelBack()
    {
        // two registries on one home (two processes' worth). The promotion read "validated" and checked its transition, then
        // the retirement read "validated" too and was appended; the promotion's entry came after it, and the model retired
        // by the second user was listed as promoted (validated → promoted after retired)
        using var logA = _t.Open();
        using var logB = _t.Open();
        var a = new ModelRegistry(_t.Home, logA);
        var b = new ModelRegistry(_t.Home, logB);
        var id = a.Register(_source, "owner").Id;
        a.ChangeStatus(id, ModelStatus.Validated, "all metrics PASS", RecordedEvaluation.Of(_t.Home, logA, id), "validator");

        using var checkedTransition = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        a.BeforeStatusEntry = _ =>
        {
            checkedTransition.Set();
            release.Wait(TimeSpan.FromSeconds(30));
        };
        var promotion = Task.Run(() => a.ChangeStatus(id, ModelStatus.Promoted, "approved by committee", actor: "approver"));
        Assert.True(checkedTransition.Wait(TimeSpan.FromSeconds(30)));
        var retirement = Task.Run(() => b.ChangeStatus(id, ModelStatus.Retired, "withdrawn", actor: "risk"));
        Assert.NotSame(retirement, await Task.WhenAny(retirement, Task.Delay(500))); // it waits for the promotion's entry
        release.Set();
        Assert.Equal(ModelStatus.Promoted, (await promotion).Status);
        Assert.Equal(ModelStatus.Retired, (await retirement).Status);

        Assert.Equal(ModelStatus.Retired, new ModelRegistry(_t.Home, logB).Find(id)!.Status);
        var changes = logA.List().Where(e => e.Kind == "model.status_changed")
            .Select(e => JsonDocument.Parse(e.Payload).RootElement).Select(p => (p.GetProperty("from").GetString(), p.GetProperty("to").GetString())).ToList();
        Assert.Equal([("candidate", "validated"), ("validated", "promoted"), ("promoted", "retired")], changes);
    }

    // RELIABILITY MRM-10
    [Fact]
    public void Promotion_ByTheActorWhoValidated_IsRefused_AndTheRefusalIsLogged()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var id = registry.Register(_source, "owner").Id;
        var evidence = RecordedEvaluation.Of(_t.Home, log, id);
        registry.ChangeStatus(id, ModelStatus.Validated, "all metrics PASS", evidence, "validator");
        var before = log.Count;

        var e = Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Promoted, "self-approval", actor: "validator"));
        Assert.Equal("REG-E-SOD", e.Rule);
        Assert.Contains("segregation of duties", e.Message, StringComparison.Ordinal);
        Assert.Equal(ModelStatus.Validated, registry.Find(id)!.Status); // nothing changed
        var refused = Assert.Single(log.List(before + 1));
        Assert.Equal("model.status_refused", refused.Kind);
        Assert.Equal("validator", refused.Actor);
        using (var payload = JsonDocument.Parse(refused.Payload))
        {
            Assert.Equal(id, payload.RootElement.GetProperty("model_id").GetString());
            Assert.Equal("promoted", payload.RootElement.GetProperty("to").GetString());
            Assert.Equal("REG-E-SOD", payload.RootElement.GetProperty("rule").GetString());
        }

        // the default actor is the same person too when it validated
        var other = Path.Combine(_t.Home.Root, "other-src");
        Directory.CreateDirectory(other);
        File.WriteAllBytes(Path.Combine(other, ModelRegistry.WeightsFileName), [1, 2, 3]);
        File.WriteAllText(Path.Combine(other, ModelRegistry.ManifestFileName), "{}");
        var second = registry.Register(other).Id;
        registry.ChangeStatus(second, ModelStatus.Validated, "PASS", RecordedEvaluation.Of(_t.Home, log, second));
        Assert.Equal("REG-E-SOD", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(second, ModelStatus.Promoted, "me again")).Rule);

        // another actor may promote; the validator may still retire
        Assert.Equal(ModelStatus.Promoted, registry.ChangeStatus(id, ModelStatus.Promoted, "approved by committee", actor: "approver").Status);
        Assert.Equal(ModelStatus.Retired, registry.ChangeStatus(id, ModelStatus.Retired, "superseded", actor: "validator").Status);
        Assert.True(AuditLog.Verify(_t.Home).Ok);
    }

    [Fact]
    public void List_ShowsOwnerParentAndValidationReport()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var parent = registry.Register(_source, "alice");
        Assert.Equal("alice", parent.Owner);
        Assert.Null(parent.Parent);

        var child = Path.Combine(_t.Home.Root, "child-src");
        Directory.CreateDirectory(child);
        File.WriteAllBytes(Path.Combine(child, ModelRegistry.WeightsFileName), [4, 5, 6]);
        File.WriteAllText(Path.Combine(child, ModelRegistry.ManifestFileName), "{}");
        Assert.Equal("REG-E-PARENT", Assert.Throws<InvalidInputException>(() => registry.Register(child, "bob", new string('e', 64))).Rule);
        Assert.False(Directory.Exists(Path.Combine(_t.Home.ModelsFolder, Convert.ToHexStringLower(SHA256.HashData(new byte[] { 4, 5, 6 })))));
        var registered = registry.Register(child, "bob", parent.Id);
        Assert.Equal(parent.Id, registered.Parent);
        var evidence = RecordedEvaluation.Of(_t.Home, log, registered.Id);
        registry.ChangeStatus(registered.Id, ModelStatus.Validated, "PASS", evidence, "carol");

        // read back from the audit log by a fresh registry
        using var again = _t.Open();
        var list = new ModelRegistry(_t.Home, again).List();
        Assert.Equal([("alice", null, null, null), ("bob", parent.Id, evidence, "carol")],
            list.Select(m => (m.Owner, m.Parent, m.EvidenceSha256, m.ValidatedBy)).ToList());
    }

    // session 24: a registration or run killed after its entry was committed and before it removed its pending marker left
    // the marker (keeping its folder or manifest out of the lost-log rule) until the next registration or run. Opening the
    // registry, and audit verify on a log that verifies, remove it; never the marker of one whose entry is not committed
    [Fact]
    public void OpeningTheRegistry_AndVerify_RemoveTheMarkersOfCommittedEntries_NeverThoseOfLiveRegistrationsAndRuns()
    {
        string modelMarker, doneMarker, liveMarker;
        using (var log = _t.Open())
        {
            var m = new ModelRegistry(_t.Home, log).Register(_source);
            modelMarker = Path.Combine(m.Folder, ModelRegistry.PendingMarkerName);
            var done = RunManifests.Start(_t.Home, RunKind.Evaluate, new System.Text.Json.Nodes.JsonObject { ["command"] = "evaluate" }, 0).Finish().ToCanonicalJson();
            RunManifests.WriteJson(_t.Home, done);
            log.AppendRunCompletedJson(done, new System.Text.Json.Nodes.JsonObject { ["command"] = "evaluate" });
            doneMarker = RunManifests.PendingMarkerPath(_t.Home, RunManifest.Parse(done).RunId);
            var live = RunManifests.Start(_t.Home, RunKind.Evaluate, new System.Text.Json.Nodes.JsonObject { ["command"] = "evaluate" }, 0).Finish().ToCanonicalJson();
            RunManifests.WriteJson(_t.Home, live); // between its manifest and its entry
            liveMarker = RunManifests.PendingMarkerPath(_t.Home, RunManifest.Parse(live).RunId);
        }

        // as a kill just after each commit leaves them (KillSafetyTests kills there)
        void Plant()
        {
            File.WriteAllText(modelMarker, ExpectedId + "\n");
            File.WriteAllText(doneMarker, "x\n");
        }

        Plant();
        using (var log = _t.Open())
        {
            _ = new ModelRegistry(_t.Home, log);
            Assert.False(File.Exists(modelMarker), "the registered model's marker stays");
            Assert.False(File.Exists(doneMarker), "the recorded run's marker stays");
            Assert.True(File.Exists(liveMarker), "the marker of a run without its entry was removed");
        }

        Plant();
        Assert.True(_t.Verify().Ok);
        Assert.False(File.Exists(modelMarker));
        Assert.False(File.Exists(doneMarker));
        Assert.True(File.Exists(liveMarker));
    }

    [Fact]
    public async Task ARegistrationBetweenItsRenameAndItsEntry_KeepsItsMarker_WhileTheRegistryIsOpenedAndTheLogVerified()
    {
        using var logA = _t.Open();
        using var logB = _t.Open();
        var a = new ModelRegistry(_t.Home, logA);
        using var paused = new PausedRegistration(a, _source, "alice");
        var marker = Path.Combine(_t.Home.ModelsFolder, ExpectedId, ModelRegistry.PendingMarkerName);
        try
        {
            Assert.True(File.Exists(marker)); // in place, its entry not yet appended
            _ = new ModelRegistry(_t.Home, logB);
            Assert.True(_t.Verify().Ok);
            Assert.True(File.Exists(marker), "a live registration's marker was removed");
        }
        finally
        {
            _ = paused.Release();
        }

        Assert.Equal(ExpectedId, (await paused.Registration).Id);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// A registration held between its folder's rename and its audit entry (<see cref="ModelRegistry.BeforeEntry"/>):
    /// the constructor returns once the folder is in place; <see cref="Release"/> lets the entry be appended.
    /// </summary>
    private sealed class PausedRegistration : IDisposable
    {
        private readonly ManualResetEventSlim _moved = new();
        private readonly ManualResetEventSlim _release = new();

        public PausedRegistration(ModelRegistry registry, string source, string actor)
        {
            registry.BeforeEntry = _ =>
            {
                _moved.Set();
                _release.Wait(TimeSpan.FromSeconds(30));
            };
            Registration = Task.Run(() => registry.Register(source, actor));
            Assert.True(_moved.Wait(TimeSpan.FromSeconds(30)));
        }

        /// <summary>The paused registration; it completes after <see cref="Release"/>.</summary>
        public Task<ModelRecord> Registration { get; }

        /// <summary>Lets the registration append its entry; returns it.</summary>
        public Task<ModelRecord> Release()
        {
            _release.Set();
            return Registration;
        }

        public void Dispose()
        {
            _release.Set(); // never leave the registration's thread waiting on a disposed event
            try
            {
                Registration.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // the test that owns it has already seen (or asserted) the registration's outcome
            }

            _moved.Dispose();
            _release.Dispose();
        }
    }
}
