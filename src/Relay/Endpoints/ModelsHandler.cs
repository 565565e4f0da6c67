using System.Globalization;
using System.Text.Json;
using Relay.Auth;
using Relay.Configuration;
using Relay.Errors;
using Relay.Protocol.Anthropic;
using Relay.Protocol.Json;
using Relay.Protocol.Text;
using Relay.Routing;
using Relay.Storage;
using Relay.Upstreams;

namespace Relay.Endpoints;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> in Anthropic's list format, with its cursors.</summary>
/// <remarks>Lists the configured exact names in config order, then the current Claude ids (<see cref="KnownClaudeModels"/>)
/// that a configured pattern routes: a pattern itself cannot be listed, and discovery keeps only Claude ids, so a
/// config of patterns alone would otherwise list nothing. The first name of each <c>family</c> is marked
/// <c>is_family_default</c>, so Claude Desktop's discovery has one default per tier. The list is built once, so
/// Claude Code's discovery (3 s timeout) is answered at once.</remarks>
internal sealed class ModelsHandler
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 1000;

    private readonly ClientAuthenticator _authenticator;
    private readonly KeyAccess _access;
    private readonly UnauthenticatedRequests _strangers;
    private readonly ModelCatalog _catalog;
    private readonly ModelInfo[] _models;
    private readonly string _createdAt;
    private readonly AnthropicUpstream? _bridge;
    private readonly ILogger<ModelsHandler> _logger;

    public ModelsHandler(ClientAuthenticator authenticator, KeyAccess access, UnauthenticatedRequests strangers, ModelCatalog catalog, TimeProvider time, RelayConfig config,
        UpstreamRegistry upstreams, ILogger<ModelsHandler> logger)
    {
        _authenticator = authenticator;
        _access = access;
        _strangers = strangers;
        _catalog = catalog;
        _logger = logger;
        // A bridge lists what the remote lists: its own catalog is a single "*" and says nothing.
        _bridge = config.BridgeProvider is { } provider ? upstreams[provider] as AnthropicUpstream : null;
        _createdAt = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var seenFamilies = new HashSet<string>(StringComparer.Ordinal);
        var routedByPattern = KnownClaudeModels.Ids
            .Select(id => (Id: id, Entry: catalog.TryResolve(id, out var entry) && entry.IsPattern ? entry : null))
            .Where(m => m.Entry is not null)
            .Select(m => (m.Id, Entry: m.Entry!, DisplayName: KnownClaudeModels.DisplayName(m.Id)));
        _models = catalog.Listed.Select(entry => (Id: entry.Name, Entry: entry, DisplayName: entry.DisplayName ?? entry.Name))
            .Concat(routedByPattern)
            .Select(m => Describe(m.Id, m.DisplayName, m.Entry.Family, m.Entry.Family is { } f && seenFamilies.Add(f)))
            .ToArray();
    }

    private ModelInfo Describe(string id, string displayName, string? family, bool familyDefault) => new()
    {
        Id = id,
        DisplayName = displayName,
        CreatedAt = _createdAt,
        AnthropicFamilyTier = family,
        IsFamilyDefault = family is null ? null : familyDefault,
    };

    public async Task ListAsync(HttpContext context)
    {
        if (_bridge is not null)
        {
            await ForwardAsync(context, "/v1/models");
            return;
        }

        var (key, authError) = await AuthenticateAsync(context);
        if (key is null || authError is not null)
        {
            await ErrorResponses.WriteAsync(context, authError!);
            return;
        }

        // A key limited to some models sees only those.
        var models = key.Limits.Models is { Count: > 0 } ? Array.FindAll(_models, m => _access.MayUse(key, m.Id)) : _models;
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            await ErrorResponses.WriteAsync(context, RelayError.InvalidRequest($"limit: must be an integer from 1 to {MaxLimit}."));
            return;
        }

        var afterId = query["after_id"].ToString();
        var beforeId = query["before_id"].ToString();
        IEnumerable<ModelInfo> window = models;
        bool hasMore;
        List<ModelInfo> page;
        if (beforeId.Length > 0)
        {
            var end = Array.FindIndex(models, m => m.Id == beforeId);
            var before = end < 0 ? [] : models[..end];
            page = before.Skip(Math.Max(0, before.Length - limit)).ToList();
            hasMore = before.Length > limit;
        }
        else
        {
            if (afterId.Length > 0)
            {
                var start = Array.FindIndex(models, m => m.Id == afterId);
                window = start < 0 ? [] : models.Skip(start + 1);
            }

            var rest = window.ToList();
            page = rest.Take(limit).ToList();
            hasMore = rest.Count > limit;
        }

        var result = new ModelPage { Data = page, HasMore = hasMore, FirstId = page.FirstOrDefault()?.Id, LastId = page.LastOrDefault()?.Id };
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, result, ProtocolJson.Context.ModelPage, context.RequestAborted);
    }

    public async Task GetAsync(HttpContext context)
    {
        if (_bridge is not null)
        {
            await ForwardAsync(context, "/v1/models/" + Uri.EscapeDataString((string)context.Request.RouteValues["id"]!));
            return;
        }

        var (key, authError) = await AuthenticateAsync(context);
        if (key is null || authError is not null)
        {
            await ErrorResponses.WriteAsync(context, authError!);
            return;
        }

        // Listed names answer as listed; a name a pattern accepts answers as itself.
        var id = (string)context.Request.RouteValues["id"]!;
        var model = Array.Find(_models, m => m.Id == ModelCatalog.StripContextSuffix(id));
        if (model is null && _catalog.TryResolve(id, out var entry))
        {
            model = new ModelInfo { Id = id, DisplayName = id, CreatedAt = _createdAt, AnthropicFamilyTier = entry.Family };
        }

        if (model is not null && !_access.MayUse(key, id))
        {
            await ErrorResponses.WriteAsync(context, RelayError.NotFound($"model: {ClientText.Shorten(id)} is not available to this key."));
            return;
        }

        if (model is null)
        {
            await ErrorResponses.WriteAsync(context, RelayError.NotFound($"model: {ClientText.Shorten(id)} is not configured in Relay ({_catalog.DescribeAvailable()})."));
            return;
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, model, ProtocolJson.Context.ModelInfo, context.RequestAborted);
    }

    private async Task ForwardAsync(HttpContext context, string path)
    {
        var timing = new RequestTiming();
        var status = 499;
        try
        {
            status = await _bridge!.ForwardGetAsync(context, path, context.RequestAborted);
        }
        finally
        {
            Log.Forwarded(_logger, context.TraceIdentifier, "GET", path, _bridge!.Name, status, timing.ElapsedMs);
        }
    }

    /// <summary>The client's key, or the error to answer: no valid key, or one that is disabled, expired or used from
    /// an address it may not come from.</summary>
    private async Task<(StoredApiKey? Key, RelayError? Error)> AuthenticateAsync(HttpContext context)
    {
        var auth = await _authenticator.AuthenticateAsync(context.Request.Headers, context.RequestAborted);
        if (auth.Key is { } key)
        {
            return (key, _access.Check(context, key));
        }

        return (null, auth.StoreFailed ? RelayError.KeyStoreUnavailable()
            : _strangers.Refuse(context, auth.Presented ? RelayError.InvalidKey() : RelayError.MissingKey()));
    }
}
