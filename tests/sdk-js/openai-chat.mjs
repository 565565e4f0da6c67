// Uses Relay's Chat Completions door with the official OpenAI TypeScript SDK, unchanged: model listing, a plain and a
// streamed completion, and streamed parallel tool calls assembled by the SDK's own stream helper. Run by Relay.Tests
// (SdkJsTests). Prints one line per scenario and exits non-zero on the first failure.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const client = new OpenAI({
  baseURL: `${process.env.RELAY_BASE_URL}/v1`,
  apiKey: process.env.RELAY_KEY,
  maxRetries: 0,
  timeout: 20_000,
});

async function models() {
  const ids = [];
  for await (const model of client.models.list()) {
    ids.push(model.id);
  }
  assert.ok(ids.includes('claude-haiku-4-5'), `listed: ${ids.join(', ')}`);
}

async function completion() {
  const answer = await client.chat.completions.create({
    model: 'sdk-text',
    messages: [{ role: 'user', content: 'plain' }],
  });
  assert.equal(answer.choices[0].message.content, 'Hello from Relay ☕ 你好');
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.equal(answer.usage.prompt_tokens, 100);
}

async function streamed() {
  const pieces = [];
  const stream = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Say something through the mock' }],
  });
  let usage;
  for await (const chunk of stream) {
    pieces.push(chunk.choices[0]?.delta?.content ?? '');
    usage ??= chunk.usage;
  }
  assert.ok(pieces.join('').length > 0);
  assert.ok(usage?.completion_tokens > 0, 'usage chunk');
}

async function tools() {
  const stream = client.chat.completions.stream({
    model: 'sdk-tools',
    messages: [{ role: 'user', content: 'Weather and time?' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } },
    ],
  });
  const final = await stream.finalChatCompletion();
  const calls = final.choices[0].message.tool_calls;
  assert.equal(calls.length, 2);
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { city: 'Paris' });
  assert.deepEqual(JSON.parse(calls[1].function.arguments), { tz: 'UTC' });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
}

for (const [name, scenario] of Object.entries({ models, completion, streamed, tools })) {
  await scenario();
  console.log(`ok ${name}`);
}
