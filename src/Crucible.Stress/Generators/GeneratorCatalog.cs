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

    /// <summary>
    /// Refuses, before any fitting, a window <paramref name="generator"/> cannot sample (rule <c>window</c>): the TimeVAE
    /// baseline's dense layers fix its window (<see cref="TimeVaeOptions.Window"/>), which it otherwise refused only when
    /// sampling, after its own training and that of every generator fitted before it. The other generators sample any window.
    /// </summary>
    public static void CheckWindow(IScenarioGenerator generator, int window)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (generator is TimeVae vae && window > vae.Options.Window)
        {
            throw new InvalidInputException("window", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the TimeVAE baseline ({vae.Name}) trains on windows of {vae.Options.Window} steps; it cannot sample {window}"));
        }
    }

    /// <summary>A new generator by name; <see cref="InvalidInputException"/> (rule <c>unknown-generator</c>) for an unknown one.</summary>
    public static IScenarioGenerator Create(string name) =>
        Factories.TryGetValue(name, out var f) ? f()
            : throw new InvalidInputException("unknown-generator", $"unknown generator '{name}' (known: {string.Join(", ", Names)})");
}
