namespace Crucible.Governance.Manifests;

/// <summary>The outcome for one file of a manifest.</summary>
public enum FileCheck
{
    /// <summary>The file exists and hashes as recorded.</summary>
    Match,

    /// <summary>The file exists with other bytes.</summary>
    Mismatch,

    /// <summary>The file is gone.</summary>
    Missing,

    /// <summary>Named bytes, not a file (<see cref="ManifestFile.Named"/>: a request or response body): recorded, nothing to rehash.</summary>
    Named,
}

/// <summary>One file's check.</summary>
/// <param name="Role">input or output.</param>
/// <param name="Path">The path as recorded.</param>
/// <param name="Expected">The recorded SHA-256.</param>
/// <param name="Actual">The SHA-256 now, or null when missing or named.</param>
/// <param name="Result">The verdict.</param>
public sealed record ManifestFileCheck(string Role, string Path, string Expected, string? Actual, FileCheck Result);

/// <summary>The outcome of <see cref="ManifestVerifier.Verify"/>.</summary>
/// <param name="Manifest">The manifest read.</param>
/// <param name="Files">Every input and output, in manifest order.</param>
public sealed record ManifestVerification(RunManifest Manifest, IReadOnlyList<ManifestFileCheck> Files)
{
    /// <summary>Whether every file matches (named bytes have no file to check).</summary>
    public bool Ok => Files.All(f => f.Result is FileCheck.Match or FileCheck.Named);
}

/// <summary>
/// Recomputes the SHA-256 of every input and output file of a manifest and compares them with the recorded ones
/// (the file-level half of <c>crucible verify-run</c>; re-executing the run to regenerate the outputs is the other).
/// Relative paths resolve against the manifest's folder. Named bytes (a service run's request and response bodies) are
/// listed as <see cref="FileCheck.Named"/>: there is no file to rehash.
/// </summary>
public static class ManifestVerifier
{
    /// <summary>Checks every file of the manifest at <paramref name="manifestPath"/>.</summary>
    /// <exception cref="Crucible.Data.InvalidInputException">The manifest is missing, not JSON, or fails the schema check.</exception>
    public static ManifestVerification Verify(string manifestPath)
    {
        var manifest = RunManifest.Load(manifestPath);
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(manifestPath))!;
        var checks = new List<ManifestFileCheck>();
        foreach (var (role, files) in new[] { ("input", manifest.Inputs), ("output", manifest.Outputs) })
        {
            foreach (var f in files)
            {
                if (!f.IsFile)
                {
                    checks.Add(new ManifestFileCheck(role, f.Path, f.Sha256, null, FileCheck.Named));
                    continue;
                }

                var full = System.IO.Path.IsPathRooted(f.Path) ? f.Path : System.IO.Path.Combine(folder, f.Path);
                if (!File.Exists(full))
                {
                    checks.Add(new ManifestFileCheck(role, f.Path, f.Sha256, null, FileCheck.Missing));
                    continue;
                }

                var actual = FileHash.Sha256(full);
                checks.Add(new ManifestFileCheck(role, f.Path, f.Sha256, actual,
                    string.Equals(actual, f.Sha256, StringComparison.Ordinal) ? FileCheck.Match : FileCheck.Mismatch));
            }
        }

        return new ManifestVerification(manifest, checks);
    }
}
