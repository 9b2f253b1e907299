using System.Runtime.CompilerServices;

// SpecialFunctions and the raw Philox round count are internal; the test project checks them directly.
[assembly: InternalsVisibleTo("Crucible.Tensors.Tests")]
