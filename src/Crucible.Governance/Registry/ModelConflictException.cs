using Crucible.Data;

namespace Crucible.Governance.Registry;

/// <summary>
/// A registration refused because its weights' id is registered with another model's manifest
/// (<see cref="ModelRegistry.ConflictRule"/>). When the two differ in <c>data.last_prices</c>, the advice names the training
/// option that withholds them, which each shell names its own way (<see cref="Worded"/>): <c>crucible train</c>'s
/// <c>--withhold-prices</c>, a training job's <c>withhold_prices</c>; <see cref="Exception.Message"/> names it by the
/// manifest's record of it, <c>data.last_prices_withheld</c>.
/// </summary>
public sealed class ModelConflictException : InvalidInputException
{
    private readonly Func<string, string> _worded;

    internal ModelConflictException(Func<string, string> worded, InputLocation location)
        : base(ModelRegistry.ConflictRule, worded(LibraryName), location)
    {
        _worded = worded;
    }

    // the option as the library names it: the manifest's record of it
    private const string LibraryName = "data.last_prices_withheld";

    /// <summary>
    /// The same refusal (rule, location) with the option that withholds the last train prices named
    /// <paramref name="withholdPrices"/> (<c>train --withhold-prices</c>, <c>withhold_prices</c>).
    /// </summary>
    public InvalidInputException Worded(string withholdPrices)
    {
        ArgumentException.ThrowIfNullOrEmpty(withholdPrices);
        return new InvalidInputException(Rule, _worded(withholdPrices), Location);
    }
}
