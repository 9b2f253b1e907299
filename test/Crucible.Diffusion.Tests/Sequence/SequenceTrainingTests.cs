using System.Globalization;
using System.Text;
using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

public sealed class SequenceTrainingTests : IDisposable
{
    private static readonly SequenceGeneratorOptions Tiny = new()
    {
        Window = 5, DiffusionSteps = 50, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8,
        Training = new TrainerOptions(Steps: 10, BatchSize: 16, LearningRate: 2e-3, WarmupSteps: 2), Seed = 4,
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-sequence-training-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// 120 weekdays of 2 series from 2020-01-01 (train: up to 2020-03-31, so covid-2020 runs past the split) and a state
    /// file with VIXCLS on the same days.
    /// </summary>
    private (TimeSeriesFrame Train, TimeSeriesFrame All, SequenceState State) Data(bool constantState = false)
    {
        var rng = new Random(6);
        var dates = TestDates.Weekdays(new DateOnly(2020, 1, 1), 120);

        var values = new double[120 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * 0.03;
        var all = new TimeSeriesFrame([.. dates], ["A", "B"], values);
        var csv = new StringBuilder("Date,VIXCLS\n");
        foreach (var d in dates) csv.Append(CultureInfo.InvariantCulture, $"{d:yyyy-MM-dd},{(constantState ? 20 : 15 + (10 * rng.NextDouble())):F2}\n");
        var path = Path.Combine(_dir, "state.csv");
        File.WriteAllText(path, csv.ToString());
        return (all.Slice(0, all.IndexAtOrBefore(new DateOnly(2020, 3, 31)) + 1), all, SequenceState.Load(path));
    }

    [Fact]
    public void Train_IsTheFitOnTheLaggedTrainState_WithArchetypesFromTheWholeHistory()
    {
        var (train, all, state) = Data();
        var trained = SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"]);

        // the steps it stands for, written out: features of the train rows, archetypes of all rows, the fit
        var features = EconomicState.Build(state.Frame, train, ["VIXCLS"]);
        var archetypes = CrisisArchetypes.Compute(EconomicState.Build(state.Frame, all, ["VIXCLS"]));
        var expected = new SequenceGenerator(Tiny).Fit(train, features, archetypes, stateProvenance: state.Provenance);
        Assert.Equal(expected.WeightsBytes(), trained.Generator.WeightsBytes());
        Assert.Equal(expected.ManifestBytes(), trained.Generator.ManifestBytes());
        Assert.Null(trained.Calibration);

        // covid-2020's archetype averages days after the train split too: the train state alone gives another one
        double full = trained.Generator.ConditionSpace.Archetypes["covid-2020"]["VIXCLS"];
        double trainOnly = CrisisArchetypes.Compute(features)["covid-2020"]["VIXCLS"];
        Assert.NotEqual(trainOnly, full);
        Assert.Equal(Sha(state.Path), trained.Generator.Manifest.StateData!.InputSha256);
    }

    [Fact]
    public void Fit_OnFeaturesBuiltOnceOverTheWholeHistory_IsTheFitOnTheTrainRowsFeatures()
    {
        // the README's library example builds the features once, over every return row, and passes them to Fit and to the
        // archetypes: Fit reads only the rows of the train windows' first days, whose lagged state and RV20 are the same
        var (train, all, state) = Data();
        var once = EconomicState.Build(state.Frame, all, ["VIXCLS", "RV20"]);
        Assert.True(once.Dates[^1] > train.Dates[^1]);
        var archetypes = CrisisArchetypes.Compute(once);
        var fromAll = new SequenceGenerator(Tiny).Fit(train, once, archetypes);
        var fromTrain = new SequenceGenerator(Tiny).Fit(train, EconomicState.Build(state.Frame, train, ["VIXCLS", "RV20"]), archetypes);
        Assert.Equal(fromTrain.WeightsBytes(), fromAll.WeightsBytes());
        Assert.Equal(fromTrain.ManifestBytes(), fromAll.ManifestBytes());
    }

    [Fact]
    public void DefaultTraining_IsTheOptionsDefault_AndStaysOutOfTheConfig()
    {
        Assert.Equal(new TrainerOptions(Steps: 3000, BatchSize: 128, LearningRate: 2e-3, WarmupSteps: 100), SequenceGeneratorOptions.DefaultTraining);
        Assert.Equal(SequenceGeneratorOptions.DefaultTraining, new SequenceGeneratorOptions().Training);
        // one setting changed keeps the sequence defaults, where a new TrainerOptions takes the tabular ones
        var changed = SequenceGeneratorOptions.DefaultTraining with { Steps = 200 };
        Assert.Equal((200, 128, 2e-3), (changed.Steps, changed.BatchSize, changed.LearningRate));
        Assert.NotEqual(changed, new TrainerOptions(Steps: 200));
        // a static property: the manifest's config (the options' JSON) has no key for it
        var json = System.Text.Json.JsonSerializer.Serialize(new SequenceGeneratorOptions(), Crucible.Diffusion.Tabular.DiffusionJson.Options);
        Assert.DoesNotContain("default_training", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_WithACalibration_SetsTheDefaultGuidanceAndRecordsIt()
    {
        var (train, all, state) = Data();
        var calibration = SequenceTraining.CalibrationFor("COVID-2020")! with { MaxScale = 2, Samples = 40 };
        var trained = SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"], calibration);
        Assert.Equal("covid-2020", trained.Calibration!.Episode);
        Assert.Equal(40, trained.Calibration.Samples);
        Assert.Same(trained.Calibration, trained.Generator.Manifest.GuidanceCalibration);
        Assert.Equal(trained.Calibration.Chosen, trained.Generator.Manifest.Config.GuidanceScale);
    }

    [Fact]
    public void CalibrationFor_KnowsTheBuiltInEpisodesOnly()
    {
        Assert.Equal(CrisisArchetypes.Episodes.Single(e => e.Name == "rates-2022"), SequenceTraining.CalibrationFor("rates-2022")!.Episode);
        Assert.Null(SequenceTraining.CalibrationFor("dotcom-2000"));
        Assert.Equal("gfc-2008, covid-2020, rates-2022", SequenceTraining.EpisodeNames);
    }

    [Fact]
    public void Train_Errors_NameTheStateFile_OrTheConfigRule()
    {
        var (train, all, state) = Data();
        var missing = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny, state, ["TERM"]));
        Assert.Equal(new InputLocation(state.Path, 1, 0), missing.Location);
        Assert.Contains("DGS10", missing.Message, StringComparison.Ordinal);

        var config = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny with { Window = 1 }, state, ["VIXCLS"]));
        Assert.Equal(SequenceTraining.ConfigRule, config.Rule);
        Assert.Null(config.Location);

        Assert.Throws<ArgumentException>(() => SequenceTraining.Train(train, all, Tiny, calibration: SequenceTraining.CalibrationFor("gfc-2008")));
        var file = Assert.Throws<InvalidInputException>(() => SequenceState.Load(Path.Combine(_dir, "none.csv")));
        Assert.Equal("CSV-E-FILE", file.Rule);
    }

    [Fact]
    public void Train_AConstantStateColumn_IsRefusedNamingTheStateFileAndTheColumn()
    {
        var (train, all, state) = Data(constantState: true);
        var e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"]));
        Assert.Equal("constant-condition", e.Rule);
        Assert.Equal(new InputLocation(state.Path, 1, 0), e.Location);
        Assert.Contains("condition 'VIXCLS' does not vary: it is 20 in every one of the", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StateFile_AMissingValue_IsRefusedAtItsCell_SayingWhatWorks()
    {
        // the CSV reader's advice, "declare Keep or ForwardFill", named a policy that train --state and a training job's
        // state_csv do not take; the refusal keeps the cell and says what works instead
        var path = Path.Combine(_dir, "state-hole.csv");
        File.WriteAllText(path, "Date,VIXCLS,DFF\n2020-01-02,12.5,1.55\n2020-01-03,,1.55\n2020-01-06,13.1,1.55\n");
        var e = Assert.Throws<InvalidInputException>(() => SequenceState.Load(path));
        Assert.Equal("CSV-E-MISSING", e.Rule);
        Assert.Equal(path, e.Location!.File);
        Assert.Equal(3, e.Location.Line);
        Assert.Equal(2, e.Location.Column);
        Assert.Contains("takes no missing-value policy (--missing applies to --data): drop the row", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("declare Keep or ForwardFill", e.Message, StringComparison.Ordinal);
        // without the row, the state loads and the as-of join bridges the day
        File.WriteAllText(path, "Date,VIXCLS,DFF\n2020-01-02,12.5,1.55\n2020-01-06,13.1,1.55\n");
        Assert.Equal(2, SequenceState.Load(path).Frame.RowCount);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
