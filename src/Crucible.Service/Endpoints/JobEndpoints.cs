using System.Globalization;
using System.Text.Json;
using Crucible.Service.Problems;
using Crucible.Service.Security;
using Crucible.Service.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Crucible.Service.Endpoints;

/// <summary>A page of training jobs (<c>GET /v1/jobs</c>).</summary>
/// <param name="Jobs">The jobs, newest first, each as <c>GET /v1/jobs/{id}</c> answers it.</param>
/// <param name="Next">The <c>before</c> of the next page (the last job's id), or null at the end.</param>
public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? Next);

/// <summary>
/// <c>POST /v1/models</c> (a training job, 202 with its location), <c>GET /v1/jobs</c>, <c>GET /v1/jobs/{id}</c> and
/// <c>POST /v1/jobs/{id}/cancel</c>.
/// </summary>
public static class JobEndpoints
{
    /// <summary>The largest page of <c>GET /v1/jobs</c>.</summary>
    public const int MaxLimit = 1000;

    /// <summary>The longest reason a cancel may give.</summary>
    public const int MaxReasonLength = 200;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(RouteGroupBuilder v1)
    {
        var train = ApiKeyAuthenticationHandler.PolicyPrefix + Scopes.Train;
        v1.MapPost("/models", Submit)
            .RequireAuthorization(train)
            .Accepts<TrainingRequest>("application/json")
            .Produces<JobView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithName("TrainModel")
            .WithSummary("Start a training job (tabular or sequence); poll GET /v1/jobs/{id}; the model is registered when it succeeds");
        PageParameters.AsIntegers(v1.MapGet("/jobs", List), "limit") // read as text (below) but an integer: documented as such
            .RequireAuthorization(train)
            .Produces<JobPage>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("ListJobs")
            .WithSummary("Training jobs, newest first: state (queued, running, succeeded, failed, cancelled), before (a job id: the page after it), limit ≤ 1000 (default 100)");
        v1.MapPost("/jobs/{id}/cancel", (string id, string? reason, HttpContext context, TrainingJobs jobs) =>
            {
                if (reason is { Length: > MaxReasonLength } || (reason is not null && reason.Any(char.IsControl)))
                {
                    var p = ProblemTypes.Create(422, string.Create(CultureInfo.InvariantCulture,
                        $"the cancel request has invalid values: reason: must be at most {MaxReasonLength} characters without control characters"));
                    p.Extensions["errors"] = new Dictionary<string, string[]> { ["reason"] = [string.Create(CultureInfo.InvariantCulture, $"at most {MaxReasonLength} characters, no control characters")] };
                    return Results.Problem(p);
                }

                var actor = "key:" + context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value;
                var (outcome, view) = jobs.Cancel(id, actor, reason);
                switch (outcome)
                {
                    case TrainingJobs.CancelOutcome.Cancelled:
                        return Results.Ok(view);
                    case TrainingJobs.CancelOutcome.Stopping:
                        context.Response.Headers.Location = $"/v1/jobs/{id}";
                        return Results.Json(view, statusCode: StatusCodes.Status202Accepted);
                    case TrainingJobs.CancelOutcome.Finished:
                        var finished = ProblemTypes.Create(409, $"the training job has {view!.Status.WireName()}: only a queued or running job can be cancelled", ProblemTypes.JobFinished);
                        finished.Extensions["state"] = view.Status.WireName();
                        return Results.Problem(finished); // no Retry-After: it never will succeed
                    case TrainingJobs.CancelOutcome.Gone:
                        return Results.Problem(ProblemTypes.Create(410,
                            "this training job finished, but its final state could not be recorded in jobs.db and it has left the service's memory"));
                    default:
                        return Results.Problem(ProblemTypes.Create(404, "no training job has this id"));
                }
            })
            .RequireAuthorization(train)
            .Produces<JobView>()
            .Produces<JobView>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithName("CancelJob")
            .WithSummary("Cancel a training job (optional reason ≤ 200 characters): 200 cancelled (it was queued, or cancelled already); 202 running, stops at its next step; 409 succeeded or failed")
            .WithDescription("A queued job is cancelled at once; a running one stops at its next step on whichever replica runs it and is recorded "
                + "cancelled, with error 'cancelled by key:ID[: REASON]' and a run.failed audit entry (status cancelled); nothing is registered. "
                + "Cancelling a cancelled job answers it again (200). A job that succeeded or failed is a 409 job-finished problem naming its state.");
        v1.MapGet("/jobs/{id}", (string id, TrainingJobs jobs) =>
                jobs.Find(id) is { } job ? Results.Ok(job)
                : jobs.WasForgotten(id) ? Results.Problem(ProblemTypes.Create(410,
                    "this training job finished, but its final state could not be recorded in jobs.db and it has left the service's memory"))
                : Results.Problem(ProblemTypes.Create(404, "no training job has this id")))
            .RequireAuthorization(train)
            .Produces<JobView>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone)
            .WithName("GetJob")
            .WithSummary("A training job's status and progress; run_id (GET /v1/runs/{id}) once it succeeded")
            .WithDescription("Jobs are kept in the service's store (HOME/jobs.db, or the shared PostgreSQL table training_job): a restart, "
                + "or another replica, answers as before. A job stopped by a shutdown, or left queued or running by a killed process, "
                + "answers cancelled with the reason in error; nothing was registered for it. The service keeps the last FinishedJobsInMemory "
                + "finished jobs in memory and answers older ones from its store; one whose final state the store could not record answers 410 once dropped.");
    }

    private static IResult List(TrainingJobs jobs, string? state, string? before, string? limit)
    {
        var query = new PageParameters("the job list request");
        var status = JobStatuses.FromWireName(state);
        if (state is not null && status is null)
            query.Invalid("state", $"must be one of {JobStatuses.Choices}, got '{state}'");
        var take = query.Limit(limit, MaxLimit);
        if (before is not null && (before.Length != 32 || !before.All(char.IsAsciiHexDigitLower)))
            query.Invalid("before", $"must be a job id (32 lower-case hex digits), got '{before}'");
        IReadOnlyList<JobView>? page = null;
        if (!query.HasErrors)
        {
            page = jobs.List(status, before, take + 1);
            if (page is null) query.Invalid("before", $"no training job has the id '{before}'");
        }

        if (query.Problem() is { } problem) return problem;
        var shown = page!.Take(take).ToList();
        return Results.Ok(new JobPage(shown, page!.Count > take ? shown[^1].Id : null));
    }

    private static async Task Submit(HttpContext context, TrainingJobs jobs, IOptions<ServiceOptions> settings)
    {
        var (ok, request, body) = await BodyReader.ReadJsonAsync<TrainingRequest>(context, settings.Value.MaxTrainingBodyBytes, "training request").ConfigureAwait(false);
        if (!ok) return;
        if (request is null)
        {
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(400, "the body is not a valid training request: null")).ConfigureAwait(false);
            return;
        }

        var (errors, valid) = TrainingValidation.Check(request);
        if (valid is null)
        {
            var problem = ProblemTypes.Create(422, "the training request has invalid values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
            problem.Extensions["errors"] = errors;
            await ProblemTypes.WriteAsync(context, problem).ConfigureAwait(false);
            return;
        }

        var actor = "key:" + context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)!.Value;
        var job = jobs.Submit(valid, actor, Crucible.Governance.Manifests.ManifestFile.Named(RunEndpoints.RequestInput, body));
        if (job is null)
        {
            context.Response.Headers.RetryAfter = "60";
            await ProblemTypes.WriteAsync(context, ProblemTypes.Create(429, string.Create(CultureInfo.InvariantCulture,
                $"{TrainingJobs.QueueCapacity} training jobs are waiting already; retry later"))).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.Headers.Location = $"/v1/jobs/{job.Id}";
        await context.Response.WriteAsJsonAsync(job, ScenarioEndpoints.ResponseJson, context.RequestAborted).ConfigureAwait(false);
    }
}
