using Relay.Doors;
using Relay.Endpoints.Admin;
using Relay.Protocol.Anthropic;
using Relay.WebConsole;

namespace Relay.Endpoints;

/// <summary>Maps Relay's front doors (Anthropic Messages, OpenAI Chat Completions, OpenAI Responses) under the configured base path.</summary>
internal static class RelayEndpoints
{
    public static void MapRelayApi(this IEndpointRouteBuilder app, string basePath)
    {
        var api = app.MapGroup(basePath);

        api.MapPost("/v1/messages", context =>
            context.RequestServices.GetRequiredService<MessagesHandler>().HandleAsync(context, MessagesEndpointKind.Messages, AnthropicDoor.Instance));
        api.MapPost("/v1/messages/count_tokens", context =>
            context.RequestServices.GetRequiredService<MessagesHandler>().HandleAsync(context, MessagesEndpointKind.CountTokens, AnthropicDoor.Instance));
        api.MapPost("/v1/chat/completions", context =>
            context.RequestServices.GetRequiredService<MessagesHandler>().HandleAsync(context, MessagesEndpointKind.Messages, ChatDoor.Instance));
        api.MapPost("/v1/responses", context =>
            context.RequestServices.GetRequiredService<MessagesHandler>().HandleAsync(context, MessagesEndpointKind.Messages, ResponsesDoor.Instance));
        api.MapGet("/v1/models", context => context.RequestServices.GetRequiredService<ModelsHandler>().ListAsync(context));
        api.MapGet("/v1/models/{id}", context => context.RequestServices.GetRequiredService<ModelsHandler>().GetAsync(context));

        api.MapGet("/v1/key", context => context.RequestServices.GetRequiredService<KeyStatusHandler>().GetAsync(context));

        api.MapGet("/v1/routes", context => context.RequestServices.GetRequiredService<AdminHandler>().RoutesAsync(context));
        api.MapAdminApi();
        api.MapWebConsole();

        // Claude Code probes the root and sends HEAD /api/hello (without credentials) before its first request, and
        // health checkers probe the root: answer at once, without a key, and without touching any provider.
        api.MapMethods("/", ["GET", "HEAD"], AnswerAliveAsync);
        api.MapMethods("/api/hello", ["GET", "HEAD"], AnswerAliveAsync);
    }

    private static async Task AnswerAliveAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        if (HttpMethods.IsGet(context.Request.Method))
        {
            await context.Response.WriteAsync("""{"name":"relay","status":"ok"}""");
        }
    }
}
