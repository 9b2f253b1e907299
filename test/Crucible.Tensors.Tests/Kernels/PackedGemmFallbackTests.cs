using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;

namespace Crucible.Tensors.Tests.Kernels;

/// <summary>
/// The Vector256-only fallback of the blocked GEMM (8×16 tiles, both operands always packed), which a Vector512 host
/// never runs: the GEMM tests of this namespace run again in a child test process with AVX-512 switched off
/// (<c>DOTNET_EnableAVX512=0</c>; .NET 10 no longer reads <c>DOTNET_EnableAVX512F</c>). There
/// <see cref="PackedGemmTests"/> compares every path with the naive reference and the Vector512 bits test skips.
/// On a host without Vector512 the ordinary run covers the fallback already, and this test has nothing to add.
/// </summary>
public partial class PackedGemmFallbackTests
{
    private const string ChildVariable = "CRUCIBLE_TEST_VECTOR256_CHILD";

    [Fact]
    public async Task Vector256Fallback_PassesTheGemmTests_InAChildProcess()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) == "1")
        {
            // in the child: the switch took, so the theories beside this test ran the fallback kernel
            Assert.False(Vector512.IsHardwareAccelerated);
            Assert.True(Vector256.IsHardwareAccelerated);
            return;
        }

        if (!Vector512.IsHardwareAccelerated || !Vector256.IsHardwareAccelerated) return;

        var work = Directory.CreateTempSubdirectory("crucible-gemm-fallback-");
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = work.FullName,
            };
            start.ArgumentList.Add("test");
            start.ArgumentList.Add(typeof(PackedGemmFallbackTests).Assembly.Location);
            start.ArgumentList.Add("--filter");
            start.ArgumentList.Add("FullyQualifiedName~Crucible.Tensors.Tests.Kernels.PackedGemm");

            start.Environment["DOTNET_EnableAVX512"] = "0";
            start.Environment[ChildVariable] = "1";
            using var child = Process.Start(start)!;
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                Assert.Fail("the child test run did not finish in 5 minutes");
            }

            string output = await stdout + await stderr;
            Assert.True(child.ExitCode == 0, "the GEMM tests failed on the Vector256 fallback:\n" + output);

            // every naive comparison ran and passed there, and the Vector512 bits test skipped (AVX-512 was off)
            var summary = Summary().Match(output);
            Assert.True(summary.Success, "no test summary in the child's output:\n" + output);
            Assert.Equal(0, int.Parse(summary.Groups["failed"].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(int.Parse(summary.Groups["passed"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 21, output);
            Assert.Equal(1, int.Parse(summary.Groups["skipped"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"Failed:\s+(?<failed>\d+), Passed:\s+(?<passed>\d+), Skipped:\s+(?<skipped>\d+)")]
    private static partial Regex Summary();
}
