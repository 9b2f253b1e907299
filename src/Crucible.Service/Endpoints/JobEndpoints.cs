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

/// <summary><c>POST /v1/models</c> (a training job, 202 with its location) and <c>GET /v1/jobs/{id}</c>.</summary>
public static class JobEndpoints
{
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
