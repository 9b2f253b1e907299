using System.Text.Json;
using Crucible.Service.Training;

namespace Crucible.Service.Tests;

/// <summary>A training job's config passes DP-SGD secure mode (<c>privacy.secure_mode</c>) through to the generator's options.</summary>
public sealed class DpSecureTrainingRequestTests
{
    private static ValidTrainingRequest Valid(string privacy)
    {
        using var config = JsonDocument.Parse("""{"transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": """ + privacy + "}");
        var (errors, valid) = TrainingValidation.Check(new TrainingRequest { DataCsv = "x", Config = config.RootElement.Clone() });
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => e.Key + ": " + string.Join(", ", e.Value))));
        return valid!;
    }

    [Fact]
    public void TabularJob_SecureModeInTheConfig_ReachesTheOptions_DefaultIsReproducible()
    {
        Assert.True(Valid("""{"noise_multiplier": 1.2, "secure_mode": true}""").Tabular!.Privacy!.SecureMode);
        Assert.False(Valid("""{"noise_multiplier": 1.2}""").Tabular!.Privacy!.SecureMode);
    }
}
