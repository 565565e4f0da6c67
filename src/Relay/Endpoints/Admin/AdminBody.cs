using System.Text.Json;
using Relay.Errors;
using Relay.Protocol.Text;
using Relay.Storage.Accounts;

namespace Relay.Endpoints.Admin;

/// <summary>
/// A JSON object an admin request sent, read field by field: each reader returns the value and remembers the first
/// problem as a 400 that names the field, so a handler reads everything and then checks <see cref="Error"/> once.
/// </summary>
/// <remarks>Read as a <see cref="JsonElement"/> rather than bound to a type, so a field left out and a field set to
/// <c>null</c> stay different (PATCH clears a limit with an explicit null and leaves out what it keeps).</remarks>
internal sealed class AdminBody : IDisposable
{
    private readonly JsonDocument _document;

    private AdminBody(JsonDocument document) => _document = document;

    public RelayError? Error { get; private set; }

    private JsonElement Root => _document.RootElement;

    /// <summary>Reads the request body as a JSON object with only <paramref name="fields"/>; an empty body is <c>{}</c>.</summary>
    public static async Task<(AdminBody? Body, RelayError? Error)> ReadAsync(HttpContext context, params string[] fields)
    {
        JsonDocument document;
        try
        {
            document = context.Request.ContentLength == 0
                ? JsonDocument.Parse("{}")
                : await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            return (null, RelayError.InvalidRequest($"body: not valid JSON ({ClientText.Shorten(ex.Message)})."));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, RelayError.InvalidRequest("body: must be a JSON object."));
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!fields.Contains(property.Name, StringComparer.Ordinal))
            {
                var error = RelayError.InvalidRequest($"{ClientText.Shorten(property.Name)}: unknown field; this endpoint takes {string.Join(", ", fields)}.");
                document.Dispose();
                return (null, error);
            }
        }

        return (new AdminBody(document), null);
    }

    public bool Has(string field) => Root.TryGetProperty(field, out _);

    /// <summary>Whether the field is present; <paramref name="value"/> is null when it is present as null.</summary>
    private bool TryGet(string field, out JsonElement? value)
    {
        value = null;
        if (!Root.TryGetProperty(field, out var element))
        {
            return false;
        }

        value = element.ValueKind == JsonValueKind.Null ? null : element;
        return true;
    }

    /// <summary>A non-empty string of at most 200 characters, without control characters and surrounding spaces.</summary>
    public string? Name(string field, bool required = false)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            if (required)
            {
                Fail(field, "is required.");
            }

            return null;
        }

        if (element.Value.ValueKind != JsonValueKind.String)
        {
            Fail(field, "must be a string.");
            return null;
        }

        var text = element.Value.GetString()!;
        if (NameProblem(text) is { } problem)
        {
            Fail(field, problem);
            return null;
        }

        return text;
    }

    /// <summary>US dollars as a JSON number, as nanos; at most 9 decimals (a nanodollar).</summary>
    public long? Usd(string field, bool allowNegative = false, bool required = false)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            if (required)
            {
                Fail(field, "is required (US dollars, such as 12.5).");
            }

            return null;
        }

        if (element.Value.ValueKind != JsonValueKind.Number || !element.Value.TryGetDecimal(out var dollars))
        {
            return Fail<long>(field, "must be a number of US dollars, such as 12.5.");
        }

        if (!allowNegative && dollars < 0)
        {
            return Fail<long>(field, "must not be negative.");
        }

        if (decimal.Abs(dollars) > 1_000_000_000m || decimal.Round(dollars, 9) != dollars)
        {
            return Fail<long>(field, "must be at most 1,000,000,000 US dollars with at most 9 decimals.");
        }

        return Storage.Accounts.Usd.ToNanos(dollars);
    }

    /// <summary>A non-negative JSON number, such as a price per million tokens.</summary>
    public decimal? Decimal(string field, bool required = false)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            if (required)
            {
                Fail(field, "is required.");
            }

            return null;
        }

        return element.Value.ValueKind == JsonValueKind.Number && element.Value.TryGetDecimal(out var value) && value >= 0
            ? value
            : Fail<decimal>(field, "must be a number, 0 or more.");
    }

    /// <summary>A whole number of at least 1, as a long.</summary>
    public long? PositiveLong(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        return element.Value.ValueKind == JsonValueKind.Number && element.Value.TryGetInt64(out var value) && value >= 1
            ? value
            : Fail<long>(field, "must be a whole number of at least 1.");
    }

    /// <summary>The field's raw JSON when it is an object (to be read by another reader), else null.</summary>
    public string? ObjectText(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        if (element.Value.ValueKind != JsonValueKind.Object)
        {
            Fail(field, "must be an object, or null.");
            return null;
        }

        return element.Value.GetRawText();
    }

    /// <summary>Records a problem found outside the readers (a rule across fields), unless one was found already.</summary>
    public void Fail(string field, string problem) =>
        Error ??= RelayError.InvalidRequest($"{field}: {problem}");

    /// <summary>A whole number of at least 1.</summary>
    public int? PositiveInt(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        return element.Value.ValueKind == JsonValueKind.Number && element.Value.TryGetInt32(out var value) && value >= 1
            ? value
            : Fail<int>(field, "must be a whole number of at least 1, or null for no limit.");
    }

    /// <summary>A list of strings, trimmed; an empty list is null.</summary>
    public IReadOnlyList<string>? Strings(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        var items = new List<string>();
        if (element.Value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    items = null;
                    break;
                }

                items.Add(item.GetString()!.Trim());
            }
        }

        if (element.Value.ValueKind != JsonValueKind.Array || items is null)
        {
            Fail(field, "must be an array of strings, or null.");
            return null;
        }

        return items.Count == 0 ? null : items;
    }

    /// <summary>A string as given; null when absent or null.</summary>
    public string? Text(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        if (element.Value.ValueKind != JsonValueKind.String)
        {
            Fail(field, "must be a string, or null.");
            return null;
        }

        return element.Value.GetString();
    }

    public BudgetPeriod? Period(string field)
    {
        if (!TryGet(field, out var element) || element is null)
        {
            return null;
        }

        return element.Value.ValueKind == JsonValueKind.String && BudgetPeriods.TryParse(element.Value.GetString(), out var period)
            ? period
            : Fail<BudgetPeriod>(field, "must be day, week, month or total.");
    }

    private static string? NameProblem(string text) =>
        text.Length == 0 || text.Trim() != text ? "must not be empty or have surrounding spaces."
        : text.Length > 200 ? "must not be longer than 200 characters."
        : text.Any(char.IsControl) ? "must not contain control characters."
        : null;

    public void Dispose() => _document.Dispose();

    private T? Fail<T>(string field, string problem)
        where T : struct
    {
        Fail(field, problem);
        return null;
    }
}
