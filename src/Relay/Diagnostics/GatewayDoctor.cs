using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Relay.Auth;
using Relay.Clients;

namespace Relay.Diagnostics;

/// <summary>What to check and with which key.</summary>
internal sealed record DoctorOptions(string Url, string? Key, string? Model, TimeSpan Timeout);

/// <summary>
/// Checks a gateway (Relay or any other) the way one would by hand when a client cannot use it, and says per client
/// whether it would work and how to fix what would not. Every request is the one the clients make: the base URL as
/// given with <c>/v1/...</c> appended, <c>Authorization: Bearer</c> (Claude Desktop's default and Claude Code's
/// <c>ANTHROPIC_AUTH_TOKEN</c>), then <c>x-api-key</c>.
/// </summary>
/// <remarks>
/// The key is only ever shown masked, and scrubbed from anything the gateway sends back. Client rules come from
/// Anthropic's gateway documentation for Claude Code and Claude Desktop: Desktop takes plain HTTP only on loopback,
/// its discovery keeps Claude-looking ids (or ones with <c>anthropic_family_tier</c>) and treats a redirect as
/// failure, and Claude Code's discovery gives up after 3 s.
/// </remarks>
internal sealed class GatewayDoctor(DoctorOptions options)
{
    private static readonly string[] Tiers = ["opus", "sonnet", "haiku", "fable", "mythos"];

    /// <summary>Vendor names a third-party copy of Desktop's filter drops even after "claude-" (unverified).</summary>
    private static readonly string[] NonClaudeVendors = ["deepseek", "glm", "gpt", "kimi", "qwen", "minimax", "codex", "gemini"];

    private readonly List<DoctorCheck> _checks = [];
    private readonly Findings _code = new("Claude Code");
    private readonly Findings _desktop = new("Claude Desktop");
    private readonly string? _key = string.IsNullOrWhiteSpace(options.Key) ? null : options.Key.Trim();
    private List<string>? _desktopModels;
    private List<string>? _listedModels;
    private bool _certificateUnverified;
    private (string Problem, string Fix)? _discoveryProblem;

    public async Task<DoctorReport> RunAsync(CancellationToken cancellationToken)
    {
        if (CheckUrl() is { } uri && await CheckNetworkAsync(uri, cancellationToken))
        {
            await CheckHttpAsync(uri, cancellationToken);
        }

        return new DoctorReport(options.Url, _key is null ? null : ApiKeys.Mask(_key), _checks, _desktopModels, _code.Verdict(), _desktop.Verdict());
    }

    /// <returns>The base the clients would append <c>/v1/...</c> to, or null when the URL is unusable.</returns>
    private Uri? CheckUrl()
    {
        var raw = options.Url.Trim();
        if (!GatewayUrl.TryParse(raw, out var normalised, out var error))
        {
            Add("url", "URL form", CheckStatus.Fail, error, "give the gateway's base URL, such as https://gateway.example.com or http://127.0.0.1:8787");
            _code.Fail("the URL is not usable", null);
            _desktop.Fail("the URL is not usable", null);
            return null;
        }

        // The SDKs join "base" and "/v1/messages" without doubling a slash, so only a trailing /v1 changes the path.
        var requestBase = raw.TrimEnd('/');
        var notes = new List<string>();
        var status = CheckStatus.Pass;
        string? fix = null;
        if (requestBase.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            status = CheckStatus.Warn;
            notes.Add("ends in /v1, so clients will request /v1/v1/messages");
            fix = $"use {normalised} (clients add /v1 themselves)";
            _code.Pending(fix);
            _desktop.Pending(fix);
        }
        else if (raw.EndsWith('/'))
        {
            status = CheckStatus.Warn;
            notes.Add("ends in '/'; the setup guides warn Desktop may double it");
            fix = $"use {normalised}";
            _desktop.Warn("the base URL ends in '/'", fix);
        }

        if (!normalised.DesktopAccepts)
        {
            status = CheckStatus.Fail;
            notes.Add("plain HTTP on a non-loopback host: Claude Desktop refuses it (it retries as https://)");
            fix = $"serve the gateway over HTTPS (Relay: an https:// listen URL with \"tls\"), or run `relay bridge --to {normalised}` on the Desktop machine and use http://127.0.0.1:18080";
            _desktop.Fail("plain HTTP off loopback", fix);
            _code.Warn("the key crosses the network unencrypted (plain HTTP)", "serve the gateway over HTTPS");
        }

        Add("url", "URL form", status, notes.Count == 0 ? normalised.Value : $"{raw}: {string.Join("; ", notes)}", fix);
        return new Uri(requestBase);
    }

    /// <returns>False when the gateway cannot be reached at all.</returns>
    private async Task<bool> CheckNetworkAsync(Uri uri, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
            Add("dns", "DNS", CheckStatus.Pass, $"{uri.Host} is an IP address");
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
                Add("dns", "DNS", CheckStatus.Pass, $"{uri.IdnHost} -> {string.Join(", ", addresses.Take(3).Select(a => a.ToString()))}");
            }
            catch (SocketException ex)
            {
                Unreachable("dns", "DNS", $"{uri.IdnHost} does not resolve ({ex.SocketErrorCode})", "check the host name, or the DNS / hosts file of the client machine");
                return false;
            }
        }

        var port = uri.Port;
        var stopwatch = Stopwatch.StartNew();
        string? lastError = null;
        foreach (var address in addresses)
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await socket.ConnectAsync(address, port, connect.Token);
                Add("tcp", "TCP", CheckStatus.Pass, $"connected to {address}:{port} in {stopwatch.ElapsedMilliseconds} ms");
                return uri.Scheme != Uri.UriSchemeHttps || await CheckTlsAsync(uri, address, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = $"{address}:{port} did not answer within 5 s";
            }
            catch (SocketException ex)
            {
                lastError = ex.SocketErrorCode == SocketError.ConnectionRefused ? $"nothing listens on {address}:{port} (connection refused)" : $"{address}:{port}: {ex.Message}";
            }
        }

        Unreachable("tcp", "TCP", lastError ?? "no address to connect to",
            $"start the gateway (Relay: `relay serve`), and check the port ({port}) and any firewall between here and it");
        return false;
    }

    private async Task<bool> CheckTlsAsync(Uri uri, IPAddress address, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(address.AddressFamily);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshake.CancelAfter(TimeSpan.FromSeconds(10));
        X509Certificate2? certificate = null;
        var errors = SslPolicyErrors.None;
        var chainProblems = new List<string>();
        try
        {
            await client.ConnectAsync(address, uri.Port, handshake.Token);
            await using var ssl = new SslStream(client.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = uri.IdnHost,
                RemoteCertificateValidationCallback = (_, presented, chain, policyErrors) =>
                {
                    certificate = presented is null ? null : new X509Certificate2(presented);
                    errors = policyErrors;
                    chainProblems.AddRange(chain?.ChainStatus.Select(s => s.Status.ToString()).Distinct() ?? []);
                    return true;
                },
            }, handshake.Token);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Unreachable("tls", "TLS", $"the TLS handshake failed: {ex.Message}",
                $"make sure the gateway serves HTTPS on port {uri.Port} (if it speaks plain HTTP there, the URL should start with http://)");
            return false;
        }

        using (certificate)
        {
            var who = certificate is null ? "no certificate" : $"{certificate.GetNameInfo(X509NameType.SimpleName, false)}, issued by {certificate.GetNameInfo(X509NameType.SimpleName, true)}, valid until {certificate.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
            if (errors == SslPolicyErrors.None)
            {
                var expiring = certificate is not null && certificate.NotAfter < DateTime.Now.AddDays(14);
                Add("tls", "TLS certificate", expiring ? CheckStatus.Warn : CheckStatus.Pass, $"trusted ({who}){(expiring ? "; it expires soon" : "")}",
                    expiring ? "renew the certificate" : null);
                return true;
            }

            var problems = new List<string>();
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            {
                problems.Add($"it is not issued for {uri.IdnHost}");
            }

            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            {
                problems.Add(chainProblems.Contains("NotTimeValid") ? "it has expired or is not valid yet"
                    : chainProblems.Contains("UntrustedRoot") || chainProblems.Contains("PartialChain") ? "this machine does not trust it (self-signed, or from an unknown CA)"
                    : $"its chain does not verify ({string.Join(", ", chainProblems)})");
            }

            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            {
                problems.Add("the server sent no certificate");
            }

            const string fix = "trust the certificate on every client machine (`relay cert` prints how for macOS and Windows; Claude Code also reads NODE_EXTRA_CA_CERTS), "
                + "or use a certificate from a CA they already trust";
            Add("tls", "TLS certificate", CheckStatus.Fail, $"{string.Join("; ", problems)} ({who}); the checks below ignore this to tell you more", fix);
            _code.Fail("the TLS certificate is not accepted", fix);
            _desktop.Fail("the TLS certificate is not accepted", fix);
            _certificateUnverified = true;
            return true;
        }
    }

    private async Task CheckHttpAsync(Uri requestBase, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                // The TLS check above has reported on the certificate; here it only must not stop the diagnosis.
                RemoteCertificateValidationCallback = (_, _, _, errors) => errors == SslPolicyErrors.None || _certificateUnverified,
            },
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        var root = requestBase.ToString().TrimEnd('/');

        await CheckModelsAsync(http, root, cancellationToken);
        var model = options.Model ?? _desktopModels?.FirstOrDefault() ?? _listedModels?.FirstOrDefault() ?? "claude-sonnet-4-6";
        var bearer = await CheckMessageAsync(http, root, model, cancellationToken);
        var xApiKey = await CheckXApiKeyAsync(http, root, model, cancellationToken);
        JudgeAuthentication(bearer, xApiKey);
        if (bearer.Ok || xApiKey.Ok)
        {
            // Only once messages work is a discovery problem Desktop's own; before that, it is the same failure again.
            if (_discoveryProblem is { } discovery)
            {
                _desktop.Warn(discovery.Problem, discovery.Fix);
            }

            await CheckStreamAsync(http, root, model, bearer.Ok, cancellationToken);
        }
        else
        {
            Add("stream", "POST /v1/messages (stream)", CheckStatus.Skip, "skipped: no plain request succeeded");
        }
    }

    private async Task CheckModelsAsync(HttpClient http, string root, CancellationToken cancellationToken)
    {
        const string title = "GET /v1/models";
        var (response, body, elapsed, failure) = await SendAsync(http, HttpMethod.Get, root + "/v1/models?limit=1000", null, bearer: true, cancellationToken);
        if (failure is not null)
        {
            Add("models", title, CheckStatus.Warn, failure, "Desktop then shows only the models listed in its configuration");
            _discoveryProblem = ("model discovery failed", "list the models in the Desktop configuration (`relay setup claude-desktop --model ...`)");
            return;
        }

        using (response)
        {
            var status = (int)response!.StatusCode;
            if (status is >= 300 and < 400)
            {
                var fix = $"serve /v1/models at the base URL itself (it redirects to {response.Headers.Location}), or list models in the Desktop configuration";
                Add("models", title, CheckStatus.Warn, $"{status} redirect: clients treat a redirect during discovery as failure", fix);
                _discoveryProblem = ("model discovery redirects", fix);
                return;
            }

            if (status != 200 || !TryReadModels(body, out var listed, out var desktop))
            {
                var fix = "list the models in the Desktop configuration (`relay setup claude-desktop --model ...`), which then skips discovery";
                Add("models", title, CheckStatus.Warn, $"{Describe(status, body)} in {elapsed} ms: no model discovery", fix);
                _discoveryProblem = ("no model discovery", fix);
                return;
            }

            _listedModels = listed;
            _desktopModels = desktop;
            var detail = $"200 in {elapsed} ms: {listed.Count} model(s); Claude Desktop's picker would show "
                + (desktop.Count == 0 ? "none of them" : string.Join(", ", desktop.Take(10)) + (desktop.Count > 10 ? ", …" : ""));
            if (desktop.Count == 0)
            {
                var fix = "give models Claude-style ids (Relay: map e.g. claude-sonnet-4-6 to any upstream model) or an anthropic_family_tier (Relay: \"family\"), or list them in the Desktop configuration";
                Add("models", title, CheckStatus.Warn, detail, fix);
                _discoveryProblem = ("Desktop's discovery would keep no model", fix);
            }
            else if (elapsed > 3000)
            {
                Add("models", title, CheckStatus.Warn, detail + "; slow: Claude Code's discovery gives up after 3 s", "make /v1/models answer faster");
            }
            else
            {
                Add("models", title, CheckStatus.Pass, detail);
            }
        }
    }

    private readonly record struct CallResult(bool Ok, int Status, string Detail);

    private async Task<CallResult> CheckMessageAsync(HttpClient http, string root, string model, CancellationToken cancellationToken)
    {
        const string title = "POST /v1/messages";
        var payload = MessageBody(model, stream: false, maxTokens: 16, "Reply with the single word OK.");
        var (response, body, elapsed, failure) = await SendAsync(http, HttpMethod.Post, root + "/v1/messages", payload, bearer: true, cancellationToken);
        if (failure is not null)
        {
            Add("messages", title, CheckStatus.Fail, failure);
            return new CallResult(false, 0, failure);
        }

        using (response)
        {
            var status = (int)response!.StatusCode;
            var ok = status == 200 && IsMessage(body);
            var detail = ok ? $"200 in {elapsed} ms with model {model} (Authorization: Bearer)" : $"{Describe(status, body)} with model {model} (Authorization: Bearer)";
            Add("messages", title, ok ? CheckStatus.Pass : CheckStatus.Fail, detail);
            return new CallResult(ok, status, Describe(status, body));
        }
    }

    private async Task<CallResult> CheckXApiKeyAsync(HttpClient http, string root, string model, CancellationToken cancellationToken)
    {
        const string title = "x-api-key";
        var payload = MessageBody(model, stream: false, maxTokens: 1, "Reply with OK.");
        var (response, body, _, failure) = await SendAsync(http, HttpMethod.Post, root + "/v1/messages", payload, bearer: false, cancellationToken);
        if (failure is not null)
        {
            Add("x-api-key", title, CheckStatus.Fail, failure);
            return new CallResult(false, 0, failure);
        }

        using (response)
        {
            var status = (int)response!.StatusCode;
            var ok = status == 200 && IsMessage(body);
            Add("x-api-key", title, ok ? CheckStatus.Pass : CheckStatus.Warn, ok ? "the key is also accepted as x-api-key" : $"as x-api-key: {Describe(status, body)}");
            return new CallResult(ok, status, Describe(status, body));
        }
    }

    private void JudgeAuthentication(CallResult bearer, CallResult xApiKey)
    {
        if (bearer.Ok && xApiKey.Ok)
        {
            return;
        }

        if (bearer.Ok)
        {
            _code.Warn("the gateway refuses x-api-key", "use ANTHROPIC_AUTH_TOKEN (Bearer) rather than ANTHROPIC_API_KEY, as `relay setup claude-code` does");
            return;
        }

        if (xApiKey.Ok)
        {
            _code.Warn("the gateway refuses Authorization: Bearer", "use ANTHROPIC_API_KEY (sent as x-api-key) instead of ANTHROPIC_AUTH_TOKEN");
            _desktop.Warn("the gateway refuses Authorization: Bearer", "set Gateway auth scheme to x-api-key (`relay setup claude-desktop --auth-scheme x-api-key`)");
            return;
        }

        var status = bearer.Status != 0 ? bearer.Status : xApiKey.Status;
        var fix = status switch
        {
            401 or 403 when _key is null => "give the gateway key with --key",
            401 or 403 => "the key is refused: check it (Relay: `relay keys list`; `relay keys create --name NAME` makes a new one)",
            404 when _code.HasPending => _code.PendingFix!,
            404 when bearer.Detail.Contains("model", StringComparison.OrdinalIgnoreCase) => "the model is unknown to the gateway: pick one it lists (--model), or map it (Relay: \"models\" in relay.json)",
            404 => "nothing answers /v1/messages under this URL: use the gateway's Anthropic base URL (some gateways put it under a prefix such as /anthropic or /claude)",
            429 => "the gateway is rate limiting or out of quota: try later or check the account",
            >= 500 => "the gateway failed: its upstream provider may be down or misconfigured (see the gateway's log)",
            0 => "the request did not complete: see the check above",
            _ => "see the error above",
        };
        var problem = $"POST /v1/messages fails ({bearer.Detail})";
        _code.Fail(problem, fix);
        _desktop.Fail(problem, fix);
    }

    private async Task CheckStreamAsync(HttpClient http, string root, string model, bool bearer, CancellationToken cancellationToken)
    {
        const string title = "POST /v1/messages (stream)";
        using var request = Request(HttpMethod.Post, root + "/v1/messages", MessageBody(model, stream: true, maxTokens: 64, "Count from 1 to 20, one number per line."), bearer);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (response.StatusCode != HttpStatusCode.OK || mediaType != "text/event-stream")
            {
                var text = await response.Content.ReadAsStringAsync(timeout.Token);
                Fail(title, $"{Describe((int)response.StatusCode, text)}, content type {mediaType ?? "none"} instead of text/event-stream");
                return;
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[16 * 1024];
            var all = new StringBuilder();
            var reads = 0;
            long firstData = 0, lastData = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                var now = Stopwatch.GetTimestamp();
                firstData = firstData == 0 ? now : firstData;
                lastData = now;
                reads++;
                all.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            var text2 = all.ToString();
            var events = CountOccurrences("\n" + text2, "\nevent:");
            var waited = Stopwatch.GetElapsedTime(started, firstData).TotalMilliseconds;
            var spread = Stopwatch.GetElapsedTime(firstData, lastData).TotalMilliseconds;
            if (!text2.Contains("message_stop", StringComparison.Ordinal))
            {
                Fail(title, text2.Contains("event: error", StringComparison.Ordinal)
                    ? $"the stream carried an error: {Scrub(Snippet(text2[text2.IndexOf("event: error", StringComparison.Ordinal)..]))}"
                    : "the stream ended without message_stop");
                return;
            }

            var framing = response.Content.Headers.ContentLength is { } length ? $"; Content-Length {length} was set, as buffering proxies do" : "";
            if (reads >= 2 && spread >= 100)
            {
                Add("stream", title, CheckStatus.Pass, $"incremental: {events} events over {spread:F0} ms in {reads} pieces, the first after {waited:F0} ms");
            }
            else if (waited >= 500 && spread < 50)
            {
                const string fix = "something between the client and the model buffers whole responses (a proxy, or a hand-written forwarder that reads each answer whole): make it stream, or use `relay bridge`";
                Add("stream", title, CheckStatus.Warn, $"buffered: all {events} events arrived at once after {waited:F0} ms{framing}", fix);
                _code.Warn("streams arrive all at once (buffered)", fix);
                _desktop.Warn("streams arrive all at once (buffered)", fix);
            }
            else
            {
                Add("stream", title, CheckStatus.Pass, $"{events} events in {waited + spread:F0} ms: too quick to tell whether it is incremental{framing}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Fail(title, $"no complete answer within {options.Timeout.TotalSeconds:F0} s");
        }
        catch (HttpRequestException ex)
        {
            Fail(title, Scrub(ex.Message));
        }

        void Fail(string checkTitle, string detail)
        {
            Add("stream", checkTitle, CheckStatus.Fail, detail, "streaming must work: Claude Code and Claude Desktop always stream");
            _code.Fail("streaming fails", "fix streaming on the gateway (see the stream check)");
            _desktop.Fail("streaming fails", "fix streaming on the gateway (see the stream check)");
        }
    }

    private async Task<(HttpResponseMessage? Response, string Body, long ElapsedMs, string? Failure)> SendAsync(HttpClient http, HttpMethod method, string url,
        string? payload, bool bearer, CancellationToken cancellationToken)
    {
        using var request = Request(method, url, payload, bearer);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            return (response, body, stopwatch.ElapsedMilliseconds, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, "", stopwatch.ElapsedMilliseconds, $"no answer within {options.Timeout.TotalSeconds:F0} s");
        }
        catch (HttpRequestException ex)
        {
            return (null, "", stopwatch.ElapsedMilliseconds, Scrub(ex.Message));
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string url, string? payload, bool bearer)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        request.Headers.UserAgent.ParseAdd($"relay-doctor/{typeof(GatewayDoctor).Assembly.GetName().Version?.ToString(3)}");
        if (_key is not null)
        {
            if (bearer)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("x-api-key", _key);
            }
        }

        if (payload is not null)
        {
            request.Content = new StringContent(payload, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    private static string MessageBody(string model, bool stream, int maxTokens, string prompt) =>
        JsonSerializer.Serialize(new DoctorMessage(model, maxTokens, stream, [new DoctorTurn("user", prompt)]), DoctorWireContext.Default.DoctorMessage);

    private static bool IsMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("message");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads a models list and applies Desktop's discovery filter as far as it is known.</summary>
    private static bool TryReadModels(string body, out List<string> listed, out List<string> desktop)
    {
        listed = [];
        desktop = [];
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            foreach (var model in data.EnumerateArray())
            {
                if (!model.TryGetProperty("id", out var idElement) || idElement.GetString() is not { } id)
                {
                    continue;
                }

                listed.Add(id);
                var tier = model.TryGetProperty("anthropic_family_tier", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                var claudeLooking = (id.StartsWith("claude", StringComparison.OrdinalIgnoreCase) || id.StartsWith("anthropic", StringComparison.OrdinalIgnoreCase))
                    && !NonClaudeVendors.Any(v => id.Contains(v, StringComparison.OrdinalIgnoreCase));
                if ((tier is not null && Tiers.Contains(tier)) || claudeLooking)
                {
                    desktop.Add(id);
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>"401 authentication_error: message", scrubbed of the key.</summary>
    private string Describe(int status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var type = error.TryGetProperty("type", out var t) ? t.GetString() : null;
                var message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
                return Scrub($"{status} {type}: {Snippet(message ?? "")}");
            }
        }
        catch (JsonException)
        {
        }

        return Scrub(body.Length == 0 ? $"{status} with an empty body" : $"{status}: {Snippet(body)}");
    }

    private static string Snippet(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 200 ? line : line[..200] + "…";
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Gateways sometimes echo the key in errors; it never reaches the output.</summary>
    private string Scrub(string text) => _key is null ? text : text.Replace(_key, ApiKeys.Mask(_key), StringComparison.Ordinal);

    private void Add(string id, string title, CheckStatus status, string detail, string? fix = null) =>
        _checks.Add(new DoctorCheck(id, title, status, Scrub(detail), fix is null ? null : Scrub(fix)));

    private void Unreachable(string id, string title, string detail, string fix)
    {
        Add(id, title, CheckStatus.Fail, detail, fix);
        _code.Fail("the gateway cannot be reached", fix);
        _desktop.Fail("the gateway cannot be reached", fix);
    }

    /// <summary>What would go wrong for one client, worst first.</summary>
    private sealed class Findings(string client)
    {
        private readonly List<(bool Fatal, string Problem, string? Fix)> _items = [];

        public string? PendingFix { get; private set; }

        public bool HasPending => PendingFix is not null;

        /// <summary>A fix that explains a later failure (a /v1 suffix explains a 404).</summary>
        public void Pending(string fix) => PendingFix = fix;

        public void Fail(string problem, string? fix) => _items.Add((true, problem, fix));

        public void Warn(string problem, string? fix) => _items.Add((false, problem, fix));

        public ClientVerdict Verdict()
        {
            var ordered = _items.OrderByDescending(i => i.Fatal).ToList();
            var verdict = ordered.Any(i => i.Fatal) ? Diagnostics.Verdict.Fails : ordered.Count > 0 ? Diagnostics.Verdict.WorksWithWarnings : Diagnostics.Verdict.Works;
            return new ClientVerdict(client, verdict, ordered.Select(i => i.Problem).Distinct().ToList(),
                ordered.Select(i => i.Fix).OfType<string>().Distinct().ToList());
        }
    }
}
