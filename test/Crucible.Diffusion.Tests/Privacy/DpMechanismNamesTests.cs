using System.Text.Json;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// Session 28: the JSON written by hand (the DP statement of a run manifest, the accountant's saved state) names the
/// accountant and the sampling by the manifests' enums (<see cref="DpAccountantKind"/>, <see cref="DpSampling"/>) through
/// their converter, one source of the wire names, with the bytes they always had.
/// </summary>
public sealed class DpMechanismNamesTests
{
    [Fact]
    public void WireNames_AreWhatTheManifestsConverterWrites()
    {
        Assert.Equal("rdp", DpAccountantKind.Rdp.WireName());
        Assert.Equal("poisson", DpSampling.Poisson.WireName());
        var manifest = JsonSerializer.SerializeToElement(new PrivacyManifest(), DiffusionJson.Options);
        Assert.Equal(manifest.GetProperty("accountant").GetString(), DpAccountantKind.Rdp.WireName());
        Assert.Equal(manifest.GetProperty("sampling").GetString(), DpSampling.Poisson.WireName());
    }

    [Fact]
    public void Statement_AndAccountantState_WriteTheWireNames_ByteForByte()
    {
        var statement = new DpStatement(2.5, 1e-5, 1.1, 1.0, 0.01, 100, 1000, 8, RdpFormula.Opacus, RdpConversion.Balle2020, PrivacyUnit.Record);
        var json = statement.ToJson().ToJsonString();
        Assert.Contains("\"accountant\":\"rdp\",\"rdp_formula\":\"opacus\",", json, StringComparison.Ordinal);
        Assert.Contains(",\"sampling\":\"poisson\",\"adjacency\":", json, StringComparison.Ordinal);

        var accountant = new RdpAccountant();
        accountant.Step(1.1, 0.01, 3);
        var state = accountant.ToJson();
        Assert.StartsWith("{\"accountant\":\"rdp\",\"formula\":\"opacus\",", state, StringComparison.Ordinal);
        Assert.Equal(state, RdpAccountant.FromJson(state).ToJson());
        var other = Assert.Throws<Crucible.Data.InvalidInputException>(() => RdpAccountant.FromJson(state.Replace("\"rdp\"", "\"prv\"", StringComparison.Ordinal)));
        Assert.Equal("DP-E-STATE", other.Rule);
    }
}
