using System.Globalization;
using System.Text;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
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
    public void Train_OnAHeadOfTheWholeFrame_IsTheFitOnACopyOfItsRows_AndNeverCopiesThem()
    {
        // the CLI's and the service's train split is a Head of the whole file's frame (its rows are not copied while the
        // whole frame stays held for the archetypes): the same weights and manifest (train_matrix_sha256 of its rows only)
        // as the fit on a copy of the rows, and nothing in the fit reads Values, which would copy them out
        var (copy, all, state) = Data();
        var head = all.Head(copy.RowCount);
        var onCopy = SequenceTraining.Train(copy, all, Tiny, state, ["VIXCLS"]).Generator;
        var onHead = SequenceTraining.Train(head, all, Tiny, state, ["VIXCLS"]).Generator;
        Assert.Equal(onCopy.WeightsBytes(), onHead.WeightsBytes());
        Assert.Equal(onCopy.ManifestBytes(), onHead.ManifestBytes());
        Assert.Equal(DiffusionGenerator.TrainMatrixSha256(copy), DiffusionGenerator.TrainMatrixSha256(head));

        long before = GC.GetAllocatedBytesForCurrentThread();
        _ = head.Values; // the first read copies the rows out: the fit has not read them so
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= copy.RowCount * copy.ColumnCount * sizeof(double));
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
        // the state file holds levels (VIXCLS), read as they are: the manifest said "LogReturns", the reader's setting
        Assert.Equal("Levels", trained.Generator.Manifest.StateData.InputKind);
        Assert.Contains("\"input_kind\": \"Levels\"", Encoding.UTF8.GetString(trained.Generator.ManifestBytes()), StringComparison.Ordinal);
    }

    // A model trained without DP recorded "privacy_unit_or_default": "record" in its config (a derived property, not a
    // setting), and the model card listed it as a training setting; manifests written so must still load.
    [Fact]
    public void Config_HasNoDerivedPrivacyUnitKey_AndAnOldConfigWithItStillReads()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Tiny, DiffusionJson.Options);
        Assert.DoesNotContain("privacy_unit_or_default", json, StringComparison.Ordinal);
        Assert.Equal(PrivacyUnitOf(Tiny), PrivacyUnitOf(System.Text.Json.JsonSerializer.Deserialize<SequenceGeneratorOptions>(json, DiffusionJson.Options)!));

        var old = json.TrimEnd('}') + ",\"privacy_unit_or_default\":\"record\"}";
        var read = System.Text.Json.JsonSerializer.Deserialize<SequenceGeneratorOptions>(old, DiffusionJson.Options)!;
        Assert.Equal(Tiny, read);
        Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(read, DiffusionJson.Options));
        // any other unknown key is still an error
        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<SequenceGeneratorOptions>(
            json.TrimEnd('}') + ",\"privacy_unit\":\"record\"}", DiffusionJson.Options));

        static Crucible.Diffusion.Privacy.PrivacyUnit PrivacyUnitOf(SequenceGeneratorOptions o) => o.PrivacyUnitOrDefault;
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

    [Theory]
    [InlineData(0.1, 10, "training.pacf_lags must be in 1..4 (below the window of 5) when training.pacf_weight is set, got 10")]
    [InlineData(0.1, 5, "training.pacf_lags must be in 1..4 (below the window of 5) when training.pacf_weight is set, got 5")]
    [InlineData(0.1, 0, "training.pacf_lags must be in 1..4 (below the window of 5) when training.pacf_weight is set, got 0")]
    [InlineData(-1.0, 2, "training.pacf_weight must be finite and non-negative")]
    [InlineData(double.NaN, 2, "training.pacf_weight must be finite and non-negative")]
    public void Train_APacfRegulariserTheWindowCannotHold_IsAConfigRefusal_BeforeTheFit(double weight, int lags, string message)
    {
        // {"training": {"pacf_weight": 0.1}} with --window 5 (the default pacf_lags is 10) passed the options' checks and
        // threw the trainer's ArgumentException from inside the fit: an internal error (exit 1) instead of a config error
        var (train, all, state) = Data();
        var options = Tiny with { Training = Tiny.Training with { PacfWeight = weight, PacfLags = lags } };
        var counted = new StepCounter();
        var e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, options, state, ["VIXCLS"], progress: counted));
        Assert.Equal(SequenceTraining.ConfigRule, e.Rule);
        Assert.Equal(message, e.Message);
        Assert.Equal(0, counted.Steps);

        // lags below the window train
        var fine = Tiny with { Training = Tiny.Training with { PacfWeight = 0.1, PacfLags = Tiny.Window - 1 } };
        Assert.Equal(Tiny.Window - 1, SequenceTraining.Train(train, all, fine, state, ["VIXCLS"]).Generator.Manifest.Config.Training.PacfLags);
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

    // counts the training steps reported: none means the refusal came before the fit
    private sealed class StepCounter : IProgress<TrainingProgress>
    {
        public int Steps { get; private set; }

        public void Report(TrainingProgress value) => Steps++;
    }

    [Fact]
    public void Train_ACalibrationItCannotRun_IsRefusedBeforeTheTrainingSteps()
    {
        // the analyst's own state, with its VIX column under another name, and returns from 2020 on (no 2008)
        var (train, all, state) = Data();
        var counted = new StepCounter();
        SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"], progress: counted);
        Assert.Equal(Tiny.Training.Steps, counted.Steps);   // the counter sees a fit's steps

        var gfc = new StepCounter();
        var e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"], SequenceTraining.CalibrationFor("gfc-2008"), progress: gfc));
        Assert.Equal(SequenceGenerator.CalibrationRule, e.Rule);
        Assert.Contains("the episode gfc-2008 (2008-09-15 .. 2009-03-09) holds no 5-day window of the training data (2020-01-01 .. 2020-03-31)", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, gfc.Steps);

        var csv = File.ReadAllText(state.Path).Replace("Date,VIXCLS", "Date,VOLIDX", StringComparison.Ordinal);
        var renamed = Path.Combine(_dir, "own-state.csv");
        File.WriteAllText(renamed, csv);
        var covid = new StepCounter();
        e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny, SequenceState.Load(renamed), ["VOLIDX"], SequenceTraining.CalibrationFor("covid-2020"), progress: covid));
        Assert.Equal(SequenceGenerator.CalibrationRule, e.Rule);
        Assert.StartsWith("the model is not conditioned on VIXCLS (it has VOLIDX)", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, covid.Steps);
    }

    [Fact]
    public void Train_ACalibrationWhoseEpisodeHasNoStateValue_IsRefusedBeforeTheTrainingSteps()
    {
        // returns from 2020-01-01 (covid-2020's training windows are there) and a state file that starts on 2020-05-01:
        // the episode has no condition state to calibrate on, which was found only after every training step
        var (_, all, state) = Data();
        var csv = File.ReadAllLines(state.Path).Where((line, i) => i == 0 || string.CompareOrdinal(line, "2020-05-01") >= 0);
        var late = Path.Combine(_dir, "late-state.csv");
        File.WriteAllLines(late, csv);
        var counted = new StepCounter();
        var calibration = SequenceTraining.CalibrationFor("covid-2020")! with { MaxScale = 2, Samples = 40 };
        var e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(all, all, Tiny, SequenceState.Load(late), ["VIXCLS"], calibration, progress: counted));
        Assert.Equal(SequenceGenerator.CalibrationRule, e.Rule);
        Assert.Equal("the episode covid-2020 (2020-02-20 .. 2020-04-30) has no VIXCLS value in the condition features (the state, lagged one day: "
            + "2020-05-04 .. 2020-06-16): the calibration conditions the model on the state of the episode's record VIXCLS close; give a state file that covers the episode",
            e.Message);
        Assert.Equal(0, counted.Steps);
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
        Assert.DoesNotContain("default features", missing.Message, StringComparison.Ordinal);   // TERM was named

        // no features named on a state file with the analyst's own columns: the defaults were read, and the error says so
        var defaults = Assert.Throws<SequenceOptionException>(() => SequenceTraining.Train(train, all, Tiny, state));
        Assert.Equal(new InputLocation(state.Path, 1, 0), defaults.Location);
        const string Defaults = "; without state columns named, the default features VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2, RV20 are read: name the file's own";
        Assert.EndsWith(Defaults + " (VIXCLS)", defaults.Message, StringComparison.Ordinal);
        // session 28: each shell names its own option for the state columns (crucible train --state-columns, a job's state_columns)
        var worded = defaults.Worded(MarkedOptionNames.Instance);
        Assert.Equal((defaults.Rule, defaults.Location), (worded.Rule, worded.Location));
        Assert.Equal(defaults.Message[..^" (VIXCLS)".Length] + " (<StateColumns=VIXCLS>)", worded.Message);
        Assert.IsNotType<SequenceOptionException>(missing); // TERM was named: no option to advise

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
        // located at the header cell of the column (line 1, column 2: VIXCLS after Date), with the rows it is constant over
        Assert.Equal(new InputLocation(state.Path, 1, 2, "VIXCLS"), e.Location);
        Assert.Contains("condition 'VIXCLS' does not vary: it is 20 in every one of the", e.Message, StringComparison.Ordinal);
        Assert.Contains("(condition dates 2020-01-02 .. 2020-03-25)", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("; in the state file: column 2 (VIXCLS) is constant over the rows it was read from, dated 2020-01-01 .. 2020-03-24", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_AConstantTermSpread_IsLocatedAtItsFirstSourceColumn_NamingBoth()
    {
        var (train, all, _) = Data();
        var csv = new StringBuilder("Date,VIXCLS,DGS10,DGS3MO\n");
        int i = 0;
        foreach (var d in all.Dates) csv.Append(CultureInfo.InvariantCulture, $"{d:yyyy-MM-dd},{15 + (i++ % 7)},1.5,0.5\n");
        var path = Path.Combine(_dir, "term.csv");
        File.WriteAllText(path, csv.ToString());
        var e = Assert.Throws<InvalidInputException>(() => SequenceTraining.Train(train, all, Tiny, SequenceState.Load(path), ["VIXCLS", "TERM"]));
        Assert.Equal("constant-condition", e.Rule);
        Assert.Equal(new InputLocation(path, 1, 3, "DGS10"), e.Location);
        Assert.Contains("columns 3 (DGS10) and 4 (DGS3MO) give it, and are constant over the rows it was read from, dated 2020-01-01 .. 2020-03-24", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StateFile_DatesInAnotherFormat_AreRefusedAtTheCell_NamingTheStateDateFormat_WhichReadsThem()
    {
        // an analyst's state saved by a spreadsheet as month/day/year: refused at the cell, naming the state file's date
        // format (the reader's "expected a date in the format yyyy-MM-dd" left --date-format, which reads --data only, to
        // try; until session 23 nothing read such a file); session 28: each shell names its own option for it
        // (crucible train --state-date-format, a job's state_date_format), the library's message neither
        var path = Path.Combine(_dir, "state-us-dates.csv");
        File.WriteAllText(path, "Date,VOLIDX,UNRATE\n01/04/2010,20.0,9.8\n01/05/2010,19.4,9.8\n");
        var e = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(path));
        Assert.Equal((CsvRules.Date, path, 2L, 1), (e.Rule, e.Location!.File, e.Location.Line, e.Location.Column));
        const string Reader = "ambiguous date (day/month or month/day?); expected a date in the format yyyy-MM-dd";
        Assert.Equal(Reader + " in the state file: its dates are read as yyyy-MM-dd (the state file's own date format; the price file's date format does not "
            + "apply to it): give the file's format, e.g. MM/dd/yyyy", e.Message);
        var worded = e.Worded(MarkedOptionNames.Instance);
        Assert.Equal((e.Rule, e.Location), (worded.Rule, worded.Location));
        Assert.Equal(Reader + " in the state file: its dates are read as yyyy-MM-dd (<StateDateFormat>; <DateFormat> applies to <Data>, not to the state file): "
            + "give the file's format with <StateDateFormat>, e.g. <StateDateFormat=MM/dd/yyyy>", worded.Message);

        // the same file read with its format: the same frame as its ISO twin, value for value
        var us = SequenceState.Load(path, dateFormat: "MM/dd/yyyy").Frame;
        var iso = Path.Combine(_dir, "state-iso-dates.csv");
        File.WriteAllText(iso, "Date,VOLIDX,UNRATE\n2010-01-04,20.0,9.8\n2010-01-05,19.4,9.8\n");
        var expected = SequenceState.Load(iso).Frame;
        Assert.Equal(expected.Dates, us.Dates);
        Assert.Equal(expected.Columns, us.Columns);
        Assert.Equal(expected.Values, us.Values);

        // a format given but wrong for the file names that format; an empty one is refused as an option
        e = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(iso, dateFormat: "dd.MM.yyyy"));
        Assert.Equal((CsvRules.Date, 2L), (e.Rule, e.Location!.Line));
        Assert.Contains("its dates are read as dd.MM.yyyy (the state file's own date format;", e.Message, StringComparison.Ordinal);
        Assert.Contains("its dates are read as dd.MM.yyyy (<StateDateFormat>;", e.Worded(MarkedOptionNames.Instance).Message, StringComparison.Ordinal);
        // session 29: in the library's words, and each shell's (it named --state-date-format, which a library user never typed)
        var empty = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(iso, dateFormat: " "));
        Assert.Equal(("OPT-E", "the state file's date format is empty: give an exact .NET date format such as dd/MM/yyyy, or leave it out for yyyy-MM-dd"),
            (empty.Rule, empty.Message));
        Assert.Equal("<StateDateFormat> is empty: give an exact .NET date format such as dd/MM/yyyy, or leave it out for yyyy-MM-dd",
            empty.Worded(MarkedOptionNames.Instance).Message);
    }

    [Fact]
    public void StateFile_DateColumnNamedOtherwise_IsRefusedNamingTheStateDateColumn_WhichReadsIt()
    {
        // a FRED download's header is observation_date: until session 27 only a column called Date was read (the price
        // file's --date-column, added in session 26, does not apply to the state file)
        var fred = Path.Combine(_dir, "state-fred.csv");
        File.WriteAllText(fred, "observation_date,VIXCLS,DFF\n2010-01-04,20.0,0.12\n2010-01-05,19.4,0.12\n");
        // session 28: a typed refusal (StateDateColumnException), recognised by the CLI and the service without reading its
        // message, each naming its own option; the library's own advice names no shell's flag
        var e = Assert.Throws<StateDateColumnException>(() => SequenceState.Load(fred));
        Assert.Equal((CsvRules.Header, fred, 1L, 1), (e.Rule, e.Location!.File, e.Location.Line, e.Location.Column));
        Assert.Equal("Date", e.DateColumn);
        Assert.StartsWith("no column is named 'Date', expected as the date column (the first column is 'observation_date')", e.ReaderMessage, StringComparison.Ordinal);
        Assert.Equal(e.ReaderMessage + " (the state file's date column is 'Date': give the header of its own date column, e.g. observation_date; "
            + "the price file's date column does not apply to the state file)", e.Message);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
        var advised = e.WithAdvice("name it with X");
        Assert.Equal((e.Rule, e.Location, e.ReaderMessage + " (name it with X)"), (advised.Rule, advised.Location, advised.Message));

        // other header errors are not that refusal, though the date column is missing too (the reader stops at the first)
        var duplicate = Path.Combine(_dir, "state-duplicate.csv");
        File.WriteAllText(duplicate, "observation_date,VIXCLS,VIXCLS\n2010-01-04,20.0,0.12\n");
        var other = Assert.Throws<InvalidInputException>(() => SequenceState.Load(duplicate));
        Assert.IsNotType<StateDateColumnException>(other);
        Assert.Equal(CsvRules.Header, other.Rule);
        Assert.Contains("duplicate column name 'VIXCLS'", other.Message, StringComparison.Ordinal);

        // named: the same frame as its Date-headed twin, value for value; in any case, and wherever the column stands
        var iso = Path.Combine(_dir, "state-date.csv");
        File.WriteAllText(iso, "Date,VIXCLS,DFF\n2010-01-04,20.0,0.12\n2010-01-05,19.4,0.12\n");
        var last = Path.Combine(_dir, "state-date-last.csv");
        File.WriteAllText(last, "VIXCLS,DFF,Observation_Date\n20.0,0.12,2010-01-04\n19.4,0.12,2010-01-05\n");
        var expected = SequenceState.Load(iso).Frame;
        foreach (var (path, column) in new[] { (fred, "observation_date"), (last, "OBSERVATION_DATE") })
        {
            var frame = SequenceState.Load(path, dateColumn: column).Frame;
            Assert.Equal(expected.Dates, frame.Dates);
            Assert.Equal(expected.Columns, frame.Columns);
            Assert.Equal(expected.Values, frame.Values);
        }

        // a name the file lacks names that name; an empty one is refused as an option
        e = Assert.Throws<StateDateColumnException>(() => SequenceState.Load(iso, dateColumn: "observation_date"));
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Equal("observation_date", e.DateColumn);
        Assert.Contains("no column is named 'observation_date'", e.Message, StringComparison.Ordinal);
        Assert.Contains("the state file's date column is 'observation_date'", e.Message, StringComparison.Ordinal);
        // session 29: in the library's words, and each shell's (it named --state-date-column)
        var empty = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(iso, dateColumn: " "));
        Assert.Equal(("OPT-E", "the state file's date column is empty: give the state file's date column header, or leave it out for Date"), (empty.Rule, empty.Message));
        Assert.Equal("<StateDateColumn> is empty: give the state file's date column header, or leave it out for Date", empty.Worded(MarkedOptionNames.Instance).Message);
    }

    [Fact]
    public void StateFile_AMissingValue_IsRefusedAtItsCell_SayingWhatWorks()
    {
        // the CSV reader's advice, "declare Keep or ForwardFill", named a policy that train --state and a training job's
        // state_csv do not take; the refusal keeps the cell and says what works instead
        var path = Path.Combine(_dir, "state-hole.csv");
        File.WriteAllText(path, "Date,VIXCLS,DFF\n2020-01-02,12.5,1.55\n2020-01-03,,1.55\n2020-01-06,13.1,1.55\n");
        var e = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(path));
        Assert.Equal("CSV-E-MISSING", e.Rule);
        Assert.Equal(path, e.Location!.File);
        Assert.Equal(3, e.Location.Line);
        Assert.Equal(2, e.Location.Column);
        const string AsOf = " (a return date reads the last state row of the 7 days before it)";
        Assert.Equal("missing value in the state file (refused by default): forward-fill a series' gaps (at most the forward-fill limit's rows in a row), fill the value, "
            + "or drop the row, as days without a state are left out" + AsOf, e.Message);
        // session 28: each shell names its options for the policy and the limit (--state-missing, a job's state_missing)
        var worded = e.Worded(MarkedOptionNames.Instance);
        Assert.Equal((e.Rule, e.Location), (worded.Rule, worded.Location));
        Assert.Equal("missing value in the state file (<StateMissing=reject>, the default): forward-fill a series' gaps with <StateMissing=ffill> (at most "
            + "<StateFfillLimit> rows in a row), fill the value, or drop the row, as days without a state are left out" + AsOf, worded.Message);
        Assert.DoesNotContain("declare Keep or ForwardFill", e.Message, StringComparison.Ordinal);
        // without the row, the state loads and the as-of join bridges the day
        File.WriteAllText(path, "Date,VIXCLS,DFF\n2020-01-02,12.5,1.55\n2020-01-06,13.1,1.55\n");
        Assert.Equal(2, SequenceState.Load(path).Frame.RowCount);
    }

    [Fact]
    public void StateFile_ForwardFill_FillsGapsUpToTheLimit_RefusesPastItAtTheCell()
    {
        // FRED's downloads write '.' on holidays: read as missing with the token, and forward-filled
        var path = Path.Combine(_dir, "state-gaps.csv");
        File.WriteAllText(path, "Date,VIXCLS,DFF\n2020-01-02,12.5,1.55\n2020-01-03,.,1.55\n2020-01-06,,1.56\n2020-01-07,13.1,1.57\n");
        var strict = Assert.Throws<InvalidInputException>(() => SequenceState.Load(path));
        Assert.Equal((3L, 2), (strict.Location!.Line, strict.Location.Column)); // '.' is no number without the token
        var ffill = new StateMissingValues { Policy = MissingValuePolicy.ForwardFill, ForwardFillLimit = 2, Tokens = ["."] };

        var state = SequenceState.Load(path, ffill);
        Assert.Equal([12.5, 12.5, 12.5, 13.1], state.Frame.Column(0));
        Assert.Equal(ffill, state.Missing);
        var recorded = state.Provenance.Missing!;
        Assert.Equal((MissingValuePolicy.ForwardFill, 2, 2L), (recorded.Policy, recorded.ForwardFillLimit, recorded.Filled));
        Assert.Equal(["."], recorded.Na);
        Assert.Equal(ffill, StateMissingValues.FromManifest(recorded) with { Tokens = ffill.Tokens });

        // the second day of the gap is past a limit of 1: refused at its cell, saying what to raise
        var past = Assert.Throws<SequenceOptionException>(() => SequenceState.Load(path, ffill with { ForwardFillLimit = 1 }));
        Assert.Equal("CSV-E-MISSING", past.Rule);
        Assert.Equal((path, 4L, 2), (past.Location!.File, past.Location.Line, past.Location.Column));
        Assert.Contains("beyond the forward-fill limit of 1 rows in the state file: raise the state file's forward-fill limit (now 1), fill the value, or drop the row",
            past.Message, StringComparison.Ordinal);
        var worded = past.Worded(MarkedOptionNames.Instance);
        Assert.Equal((past.Rule, past.Location), (worded.Rule, worded.Location));
        Assert.Equal("missing value beyond the forward-fill limit of 1 rows in the state file: raise <StateFfillLimit> (now 1), fill the value, or drop the row "
            + "(a return date reads the last state row of the 7 days before it)", worded.Message);

        // a gap on the first row has nothing to fill from: no limit to raise
        var first = Path.Combine(_dir, "state-first.csv");
        File.WriteAllText(first, "Date,VIXCLS\n2020-01-02,\n2020-01-03,12.5\n");
        var none = Assert.Throws<InvalidInputException>(() => SequenceState.Load(first, ffill));
        Assert.IsNotType<SequenceOptionException>(none);
        Assert.Equal((2L, 2), (none.Location!.Line, none.Location.Column));
        Assert.Contains("no earlier value to forward-fill from in the state file: fill the value, or drop the row", none.Message, StringComparison.Ordinal);

        // NaN conditions are not a policy for the state; the default reading records nothing
        Assert.Equal("OPT-E", Assert.Throws<InvalidInputException>(() => SequenceState.Load(path, ffill with { Policy = MissingValuePolicy.Keep })).Rule);
        Assert.Equal("OPT-E", Assert.Throws<InvalidInputException>(() => SequenceState.Load(path, ffill with { ForwardFillLimit = -1 })).Rule);
        Assert.Null(StateMissingValues.Default.ToManifest(0));
    }

    /// <summary>Session 21: crucible train --state-na and a training job's state_na follow this one rule (the CLI took a blank token).</summary>
    [Fact]
    public void TokensProblem_RefusesAnEmptyListAndABlankToken_AndValidateABlankToken()
    {
        Assert.Null(StateMissingValues.TokensProblem(null));
        Assert.Null(StateMissingValues.TokensProblem(["."]));
        Assert.Equal("names no token: leave it out for the empty field alone", StateMissingValues.TokensProblem([]));
        foreach (string?[] blank in new string?[][] { [".", ""], [" "], [null] })
            Assert.Equal("a token is null or blank (the empty field is always missing)", StateMissingValues.TokensProblem(blank));
        var e = Assert.Throws<InvalidInputException>(() => new StateMissingValues { Tokens = [".", " "] }.Validate(p => p == nameof(StateMissingValues.Tokens) ? "--state-na" : null));
        Assert.Equal(("OPT-E", "--state-na a token is null or blank (the empty field is always missing)"), (e.Rule, e.Message));
        StateMissingValues.Default.Validate();
    }

    [Fact]
    public void Train_OnAForwardFilledState_RecordsThePolicyInTheManifest_AndOnlyThen()
    {
        var (train, all, state) = Data();
        var plain = SequenceTraining.Train(train, all, Tiny, state, ["VIXCLS"]).Generator;
        Assert.Null(plain.Manifest.StateData!.Missing);
        Assert.DoesNotContain("\"missing\"", Encoding.UTF8.GetString(plain.ManifestBytes()), StringComparison.Ordinal);

        var lines = File.ReadAllLines(state.Path);
        lines[10] = lines[10].Split(',')[0] + ",";
        var gappy = Path.Combine(_dir, "state-gap.csv");
        File.WriteAllLines(gappy, lines);
        var filled = SequenceState.Load(gappy, new StateMissingValues { Policy = MissingValuePolicy.ForwardFill });
        var m = SequenceTraining.Train(train, all, Tiny, filled, ["VIXCLS"]).Generator.Manifest;
        Assert.Equal(new MissingValuesManifest { Policy = MissingValuePolicy.ForwardFill, ForwardFillLimit = 5, Filled = 1 }, m.StateData!.Missing);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
