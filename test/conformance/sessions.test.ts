// CONTRACT.md GET /v1/sessions/{session_id}: a session's kept history, its errors.
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape, isJsonContentType } from './lib/shapes.js';

const read = (id: string, headers: Record<string, string> = authHeaders()) => get(`/v1/sessions/${id}`, headers);

describe('GET /v1/sessions/{session_id}', () => {
  it('returns the user messages and answers of a session, oldest first', async () => {
    const first = await postJson('/v1/chat', { message: 'what is 6*7?' }, authHeaders());
    expect(first.status, first.text).toBe(200);
    const sid = first.json.session_id as string;
    const second = await postJson('/v1/chat', { message: 'thanks', session_id: sid }, authHeaders());
    expect(second.status, second.text).toBe(200);
    const res = await read(sid);
    expect(res.status, res.text).toBe(200);
    expect(isJsonContentType(res)).toBe(true);
    expectCommonHeaders(res);
    expect(res.json).toEqual({
      session_id: sid,
      messages: [
        { role: 'user', content: 'what is 6*7?' },
        { role: 'assistant', content: first.json.answer },
        { role: 'user', content: 'thanks' },
        { role: 'assistant', content: second.json.answer },
      ],
    });
  });

  it('is 404 not_found for a session the store does not hold', async () => {
    expectErrorShape(await read(`never-started-${Date.now()}`), 404, 'not_found');
  });

  it.each(['a'.repeat(65), 'bad.id', 'sp%20ace'])('is 422 validation_error for the id %s', async (id) => {
    const error = expectErrorShape(await read(id), 422, 'validation_error');
    expect(error.details.map((d: { field: string }) => d.field)).toEqual(['session_id']);
  });

  it.runIf(config.authOn)('needs the API key like /v1/chat', async () => {
    const chat = await postJson('/v1/chat', { message: 'hello' }, authHeaders());
    expect(chat.status, chat.text).toBe(200);
    expectErrorShape(await read(chat.json.session_id, {}), 401, 'unauthorized');
    expectErrorShape(await read(chat.json.session_id, { authorization: 'Bearer not-a-key' }), 401, 'unauthorized');
  });

  it('is in the OpenAPI document', async () => {
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json.paths['/v1/sessions/{session_id}'] ?? {})).toContain('get');
  });
});
