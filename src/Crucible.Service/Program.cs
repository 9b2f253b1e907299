using System.Globalization;
using Crucible.Service;

// The service's own entry point (`dotnet Crucible.Service.dll --urls URL --Crucible:Home DIR ...`); `crucible serve`
// builds the same application through ServiceApp.Build.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
await ServiceApp.Build(args).RunAsync().ConfigureAwait(false);

/// <summary>The entry point type, public so that in-process tests can name it (WebApplicationFactory).</summary>
public partial class Program;
