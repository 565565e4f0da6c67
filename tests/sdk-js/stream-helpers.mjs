// Consumes Relay's translated streams with the official Anthropic TypeScript SDK and its stream helpers.
// Run by Relay.Tests (SdkJsTests) against a Relay whose models sdk-text / sdk-tools / sdk-thinking route to a fake
// OpenAI-compatible provider. Prints one line per scenario and exits non-zero on the first failure.
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';

const client = new Anthropic({
  baseURL: process.env.RELAY_BASE_URL,
  apiKey: process.env.RELAY_KEY,
  maxRetries: 0,
  timeout: 20_000,
});

async function text() {
  const pieces = [];
  const stream = client.messages.stream({
    model: 'sdk-text',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'Say hello' }],
  });
  stream.on('text', (delta) => pieces.push(delta));
  const message = await stream.finalMessage();
  assert.equal(pieces.join(''), 'Hello from Relay ☕ 你好');
  assert.equal(message.content.length, 1);
  assert.equal(message.content[0].type, 'text');
  assert.equal(message.content[0].text, 'Hello from Relay ☕ 你好');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.model, 'sdk-text');
  assert.equal(message.usage.input_tokens, 90);
  assert.equal(message.usage.cache_read_input_tokens, 10);
  assert.equal(message.usage.output_tokens, 6);
}

async function tools() {
  const jsonDeltas = [];
  const stream = client.messages.stream({
    model: 'sdk-tools',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'Weather and time?' }],
    tools: [
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
    ],
  });
  stream.on('inputJson', (partial) => jsonDeltas.push(partial));
  const message = await stream.finalMessage();
  assert.equal(message.stop_reason, 'tool_use');
  const uses = message.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 2);
  assert.deepEqual(uses[0].input, { city: 'Paris' });
  assert.equal(uses[0].name, 'get_weather');
  assert.deepEqual(uses[1].input, { tz: 'UTC' });
  assert.match(uses[1].id, /^[a-zA-Z0-9_-]+$/);
  assert.equal(message.content[0].type, 'text');
  assert.ok(jsonDeltas.length >= 2);
}

async function thinking() {
  const thoughts = [];
  let signature = '';
  const stream = client.messages.stream({
    model: 'sdk-thinking',
    max_tokens: 2048,
    thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'What is 2+2?' }],
  });
  stream.on('thinking', (delta) => thoughts.push(delta));
  stream.on('signature', (value) => { signature = value; });
  const message = await stream.finalMessage();
  assert.equal(thoughts.join(''), 'Two plus two is four.');
  assert.equal(message.content[0].type, 'thinking');
  assert.equal(message.content[0].thinking, 'Two plus two is four.');
  assert.ok(signature.length > 0);
  assert.equal(message.content[1].type, 'text');
  assert.equal(message.content[1].text, '4');
}

async function nonStreaming() {
  const message = await client.messages.create({
    model: 'sdk-text',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Say hello' }],
  });
  assert.equal(message.type, 'message');
  assert.equal(message.content[0].text, 'Hello from Relay ☕ 你好');
}

let failed = false;
for (const [name, run] of Object.entries({ text, tools, thinking, nonStreaming })) {
  try {
    await run();
    console.log(`ok ${name}`);
  } catch (error) {
    failed = true;
    console.log(`FAILED ${name}: ${error?.stack ?? error}`);
  }
}

process.exit(failed ? 1 : 0);
