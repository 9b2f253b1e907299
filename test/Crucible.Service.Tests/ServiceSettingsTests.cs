using Crucible.Data;

namespace Crucible.Service.Tests;

/// <summary>
/// The service's settings are checked when it starts: one out of range used to pass and fail later, per request or
/// in a job (a <c>RateLimitPermits</c> of 0 answered every request 500; a timeout past a .NET timer's 49.7 days made
/// every scenario request 500, or stopped the whole service when a training job started).
/// </summary>
public sealed class ServiceSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheDefaults_AreInRange()
    {
        Assert.Empty(new ServiceOptions().Problems());
        new ServiceOptions().ThrowIfInvalid();
    }

    [Theory]
    [InlineData("RateLimitPermits", "0", "at least 1")]
    [InlineData("RateLimitWindowSeconds", "0", "a number of seconds in (0, 4294967]")]
    [InlineData("RateLimitWindowSeconds", "NaN", "a number of seconds")]
    [InlineData("MaxConcurrentGenerations", "0", "at least 1")]
    [InlineData("EngineThreads", "-1", "at least 0")]
    [InlineData("GenerationQueue", "-1", "at least 0")]
    [InlineData("GenerationTimeoutSeconds", "5000000", "0 (no limit) or a number of seconds in (0, 4294967]")]
    [InlineData("GenerationTimeoutSeconds", "-1", "0 (no limit)")]
    [InlineData("TrainingJobTimeoutSeconds", "1e9", "0 (no limit) or a number of seconds in (0, 4294967]")]
    [InlineData("TrainingJobTimeoutSeconds", "Infinity", "0 (no limit)")]
    [InlineData("MaxRequestBodyBytes", "0", "at least 1")]
    [InlineData("MaxTrainingBodyBytes", "-5", "at least 1")]
    [InlineData("MaxScenarios", "0", "at least 1")]
    [InlineData("MaxCells", "0", "at least 1")]
    [InlineData("ReadinessMinFreeBytes", "-1", "at least 0")]
    [InlineData("ReadinessLockWaitMilliseconds", "-1", "at least 0")]
    [InlineData("IdempotencyRetentionSeconds", "0", "a number of seconds")]
    [InlineData("IdempotencyCapacity", "0", "at least 1")]
    [InlineData("FinishedJobsInMemory", "-1", "at least 0")]
    [InlineData("ShutdownDrainSeconds", "30", "a number of seconds in [0, 30) (the shutdown timeout)")]
    [InlineData("ShutdownDrainSeconds", "-0.5", "a number of seconds in [0, 30)")]
    [InlineData("ShutdownDrainSeconds", "NaN", "a number of seconds in [0, 30)")]
    public void ASettingOutOfRange_StopsTheStart_NamingIt_BeforeTheHomeIsTouched(string name, string value, string must)
    {
        var home = Path.Combine(_dir, "home");
        var e = Assert.Throws<InvalidInputException>(() => ServiceApp.Build(["--urls", "http://127.0.0.1:0", "--Crucible:Home", home, $"--Crucible:{name}", value]));
        Assert.Equal(ServiceOptions.SettingRule, e.Rule);
        Assert.Equal("SERVE-E-SETTING", e.Rule);
        Assert.Contains($"Crucible:{name} must be {must}", e.Message, StringComparison.Ordinal);
        Assert.Contains("the service did not start", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(home)); // the audit log was not opened
    }

    [Fact]
    public void EverySettingOutOfRange_IsNamed_InOneRefusal()
    {
        var o = new ServiceOptions { RateLimitPermits = 0, MaxScenarios = 0, GenerationTimeoutSeconds = double.NaN };
        var problems = o.Problems();
        Assert.Equal(3, problems.Count);
        var e = Assert.Throws<InvalidInputException>(o.ThrowIfInvalid);
        Assert.Contains("Crucible:RateLimitPermits", e.Message, StringComparison.Ordinal);
        Assert.Contains("Crucible:MaxScenarios", e.Message, StringComparison.Ordinal);
        Assert.Contains("Crucible:GenerationTimeoutSeconds", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GenerationTimeoutSeconds", "0")]      // no limit
    [InlineData("TrainingJobTimeoutSeconds", "4294967")]
    [InlineData("EngineThreads", "0")]
    [InlineData("GenerationQueue", "0")]
    [InlineData("ShutdownDrainSeconds", "0")]
    [InlineData("ShutdownDrainSeconds", "29.5")]
    public void TheEdgesOfEachRange_Start(string name, string value)
    {
        var home = Path.Combine(_dir, "home");
        var app = ServiceApp.Build(["--urls", "http://127.0.0.1:0", "--Crucible:Home", home, $"--Crucible:{name}", value]);
        ((IDisposable)app).Dispose();
    }
}
