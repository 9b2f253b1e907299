using Crucible.Data;
using Crucible.Stress.Generators.Neural;

namespace Crucible.Stress.Generators;

/// <summary>The generators selectable by name (CLI <c>--generator NAME</c>); the conditional diffusion generator registers beside them.</summary>
public static class GeneratorCatalog
{
    // one line per generator
    private static readonly Dictionary<string, Func<IScenarioGenerator>> Factories = new(StringComparer.Ordinal)
    {
        ["bootstrap"] = () => new StationaryBootstrap(10),
        ["fhs"] = () => new FilteredHistoricalSimulation(),
        ["fhs-longrun"] = () => new FilteredHistoricalSimulation(start: VarianceStart.SampleVariance),
        ["garch-copula"] = () => new FilteredHistoricalSimulation(InnovationMarginal.StudentT),
        ["wgan-gp"] = () => new WganGp(),
        ["timevae"] = () => new TimeVae(),
        ["diffusion"] = () => new SequenceDiffusionGenerator(),
    };

    /// <summary>The known names, sorted.</summary>
    public static IReadOnlyList<string> Names => [.. Factories.Keys.Order(StringComparer.Ordinal)];

    /// <summary>A new generator by name; <see cref="InvalidInputException"/> (rule <c>unknown-generator</c>) for an unknown one.</summary>
    public static IScenarioGenerator Create(string name) =>
        Factories.TryGetValue(name, out var f) ? f()
            : throw new InvalidInputException("unknown-generator", $"unknown generator '{name}' (known: {string.Join(", ", Names)})");
}
