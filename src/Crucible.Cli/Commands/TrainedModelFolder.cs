using System.Security.Cryptography;
using Crucible.Data;
using Crucible.Diffusion.Tabular;

namespace Crucible.Cli.Commands;

/// <summary>
/// The check <c>train</c> makes between writing its model folder and registering it: the folder still holds the model
/// this run trained. Two runs writing one <c>--out</c> at once (overlapping schedules) replace each other's folder, and a
/// run registered and recorded whatever the folder held by then as its own (a seed-2 run reported the seed-1 model
/// "registered", its <c>run.completed</c> naming a model whose weights no longer existed).
/// </summary>
public static class TrainedModelFolder
{
    /// <summary>The rule of a model folder that another run replaced while this one was writing and registering it.</summary>
    public const string ReplacedRule = "OUT-E-REPLACED";

    /// <summary>
    /// Throws <see cref="Replaced"/> unless the weights in <paramref name="folder"/> are the model
    /// <paramref name="modelId"/> (the SHA-256 of its weights file, lower-case hex).
    /// </summary>
    public static void ThrowIfReplaced(string folder, string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        string found;
        using (var stream = File.OpenRead(Path.Combine(folder, DiffusionGenerator.WeightsFileName)))
            found = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(found, modelId, StringComparison.Ordinal)) throw Replaced(folder, modelId, found);
    }

    /// <summary>
    /// The refusal (exit 2, <see cref="ReplacedRule"/> at the folder) of a run whose folder holds model
    /// <paramref name="found"/> instead of its own <paramref name="modelId"/>.
    /// </summary>
    public static InvalidInputException Replaced(string folder, string modelId, string found)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        ArgumentNullException.ThrowIfNull(found);
        return new InvalidInputException(ReplacedRule,
            $"another run replaced this model folder while this one was writing it: it holds model {found[..Math.Min(16, found.Length)]}…, not the model "
            + $"{modelId[..Math.Min(16, modelId.Length)]}… trained here; two runs must not write one --out at once (give each schedule its own folder); "
            + "this run's run.completed was not recorded: run it again", new InputLocation(folder, 0, 0));
    }
}
