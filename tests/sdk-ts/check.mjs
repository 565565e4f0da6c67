// Calls Relay with the official Anthropic TypeScript SDK and prints what happened as one JSON object.
// Run by tests/Relay.Tests/SdkTests.cs: node check.mjs '{"baseURL":…,"key":…,"model":…,"upstreamModel":…}'
import Anthropic from '@anthropic-ai/sdk';

const options = JSON.parse(process.argv[2]);
const client = new Anthropic({ baseURL: options.baseURL, apiKey: options.key, maxRetries: 0, timeout: 20_000 });
const bearer = new Anthropic({ baseURL: options.baseURL, authToken: options.key, apiKey: null, maxRetries: 0, timeout: 20_000 });
const result = {};

async function attempt(name, body) {
  try {
    result[name] = await body();
  } catch (error) {
    result[name] = { unexpectedError: String(error) };
  }
}

async function failure(name, body) {
  try {
    await body();
    result[name] = { threw: false };
  } catch (error) {
    result[name] = {
      threw: true,
      class: error.constructor.name,
      status: error.status,
      type: error.error?.error?.type,
      requestID: error.requestID ?? null,
      isAuthenticationError: error instanceof Anthropic.AuthenticationError,
      isNotFoundError: error instanceof Anthropic.NotFoundError,
      isRateLimitError: error instanceof Anthropic.RateLimitError,
      isAPIError: error instanceof Anthropic.APIError,
    };
  }
}

const ask = { model: options.model, max_tokens: 200, messages: [{ role: 'user', content: 'Hello from the TypeScript SDK' }] };

await attempt('create', async () => {
  const message = await client.messages.create(ask);
  return { type: message.type, text: message.content.map(b => b.text ?? '').join(''), stopReason: message.stop_reason, inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens };
});

await attempt('createWithBearer', async () => (await bearer.messages.create(ask)).type);

await attempt('streamEvents', async () => {
  const stream = await client.messages.create({ ...ask, stream: true });
  const types = [];
  let text = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  }
  return { types, text };
});

await attempt('streamHelper', async () => {
  const stream = client.messages.stream(ask);
  let deltas = 0;
  stream.on('text', () => deltas++);
  const final = await stream.finalMessage();
  return { deltas, text: final.content.map(b => b.text ?? '').join(''), stopReason: final.stop_reason };
});

await attempt('countTokens', async () => (await client.messages.countTokens({ model: options.model, messages: ask.messages })).input_tokens);

await attempt('models', async () => {
  const ids = [];
  for await (const model of client.models.list({ limit: 2 })) ids.push(model.id);
  let page = await client.models.list({ limit: 2 });
  let pages = 1;
  while (page.hasNextPage()) {
    page = await page.getNextPage();
    pages++;
  }
  const one = await client.models.retrieve(ids[0]);
  return { ids, pages, retrieved: one.id };
});

await failure('error401', () => new Anthropic({ baseURL: options.baseURL, apiKey: 'sk-relay-wrong', maxRetries: 0 }).messages.create(ask));
await failure('error404', () => client.messages.create({ ...ask, model: 'no-such-model' }));
await failure('error429', () => client.messages.create({ ...ask, model: options.upstreamModel }));

console.log(JSON.stringify(result));
