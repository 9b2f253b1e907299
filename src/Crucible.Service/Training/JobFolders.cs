namespace Crucible.Service.Training;

/// <summary>
/// The folder a training job trains in, <c>HOME/jobs/&lt;job id, 32 hex digits&gt;</c>, owned by the process that runs
/// the job through an exclusive lock on its <see cref="LockFileName"/> (on Linux and macOS .NET takes an advisory
/// <c>flock</c> for <see cref="FileShare.None"/>), which the kernel releases when that process ends, however it ends.
/// The job deletes its folder when it ends; a folder whose lock nobody holds was left by a killed process.
/// </summary>
internal sealed class JobFolder : IDisposable
{
    /// <summary>The lock file in a job's folder; held open (exclusively) while the job runs.</summary>
    public const string LockFileName = ".job.lock";

    private readonly FileStream _lock;

    private JobFolder(string path, FileStream @lock)
    {
        Path = path;
        _lock = @lock;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>
    /// Creates and locks the folder of job <paramref name="jobId"/> under <paramref name="jobs"/>. A folder there already
    /// (an earlier attempt of the job, on a replica that died) is emptied first when no live process holds its lock;
    /// <paramref name="removedEarlier"/> says whether it was.
    /// </summary>
    /// <exception cref="JobFolderInUseException">Another live process holds the folder's lock (an earlier attempt still runs).</exception>
    public static JobFolder Claim(string jobs, string jobId, out bool removedEarlier)
    {
        if (!ScratchFolders.IsId(jobId)) throw new ArgumentException("not a job id", nameof(jobId));
        var path = System.IO.Path.Combine(jobs, jobId);
        Directory.CreateDirectory(path);
        var held = TryLock(path) ?? throw new JobFolderInUseException(jobId);
        try
        {
            removedEarlier = JobFolders.EmptyExceptLock(path);
        }
        catch
        {
            held.Dispose();
            throw;
        }

        return new JobFolder(path, held);
    }

    /// <summary>
    /// Deletes the folder (the job ended), then releases the lock. A folder that cannot be deleted now is left, unlocked,
    /// for the next start-up's clean-up.
    /// </summary>
    public void Dispose()
    {
        try
        {
            JobFolders.DeleteLocked(Path, _lock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _lock.Dispose();
        }
    }

    /// <summary>The folder's lock, taken without waiting, or null when a live process holds it.</summary>
    internal static FileStream? TryLock(string folder)
    {
        try
        {
            return new FileStream(System.IO.Path.Combine(folder, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            return null; // held (a sharing violation); a vanished folder is the caller's IOException
        }
    }
}

/// <summary>An earlier attempt of the job still runs in its folder, in another process on this home.</summary>
internal sealed class JobFolderInUseException(string jobId)
    : IOException($"the folder of training job {jobId} is in use by another process on this home (an earlier attempt of the job still runs)");

/// <summary>The start-up clean-up of <c>HOME/jobs</c>: folders of jobs no live process runs (left by a killed service).</summary>
internal static class JobFolders
{
    /// <summary>
    /// Deletes the folders under <paramref name="jobs"/> named like a job id that no live job owns: their lock is free
    /// (or, without a lock file, nothing in them was written for <paramref name="unlockedAge"/>: one may be a folder
    /// another process is creating this moment), and <paramref name="runningElsewhere"/> (a job running on another
    /// replica under a valid lease, on a shared store) does not name them. Nothing outside <paramref name="jobs"/>, nor
    /// any other name, nor a symbolic link is touched. Returns how many were deleted; a missing folder is none.
    /// </summary>
    public static int DeleteOrphans(string jobs, Func<string, bool> runningElsewhere, TimeSpan unlockedAge)
    {
        ArgumentNullException.ThrowIfNull(runningElsewhere);
        if (!Directory.Exists(jobs)) return 0;
        var cutoff = DateTime.UtcNow - unlockedAge;
        int deleted = 0;
        foreach (var info in new DirectoryInfo(jobs).EnumerateDirectories())
        {
            if (!ScratchFolders.IsId(info.Name) || info.LinkTarget is not null || runningElsewhere(info.Name)) continue;
            try
            {
                if (!File.Exists(Path.Combine(info.FullName, JobFolder.LockFileName)) && ScratchFolders.NewestWrite(info.FullName) >= cutoff) continue;
                var held = JobFolder.TryLock(info.FullName);
                if (held is null) continue; // a live process runs this job
                DeleteLocked(info.FullName, held);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone already (another process's clean-up) or not ours to delete: left to the next start
            }
        }

        return deleted;
    }

    /// <summary>Deletes everything in <paramref name="folder"/> but its lock file; true when there was anything.</summary>
    internal static bool EmptyExceptLock(string folder)
    {
        bool any = false;
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (entry.Name == JobFolder.LockFileName) continue;
            any = true;
            if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
            else entry.Delete(); // a file, or a link (never followed)
        }

        return any;
    }

    /// <summary>Empties <paramref name="folder"/> while holding its lock, then releases the lock and removes the lock file and the folder.</summary>
    internal static void DeleteLocked(string folder, FileStream held)
    {
        try
        {
            EmptyExceptLock(folder);
        }
        finally
        {
            held.Dispose();
        }

        try
        {
            File.Delete(Path.Combine(folder, JobFolder.LockFileName));
            Directory.Delete(folder); // not recursive: something new in it (another process took it meanwhile) stays
        }
        catch (IOException)
        {
            // another process claimed the folder between the release and the delete: it is theirs now
        }
    }
}
