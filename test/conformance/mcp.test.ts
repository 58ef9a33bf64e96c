// /mcp, the service as an MCP server (CONTRACT.md "MCP"), called with the official
// TypeScript SDK's client over Streamable HTTP; and, when the service has an MCP
// server configured beside it (CONFORMANCE_MCP_ECHO_TOOL), a tool of that server
// called by the agent. Runs only with CONFORMANCE_MCP=on (MCP_SERVER_ENABLED=true).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { get, postJson } from './lib/http.js';
import { expectErrorShape } from './lib/shapes.js';

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'conformance', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${config.baseUrl}/mcp`), {
    requestInit: { headers },
  });
  await client.connect(transport);
  return client;
}

interface ChatAnswer {
  answer: string;
  session_id: string;
  trace_id: string;
}

function answerOf(result: Awaited<ReturnType<Client['callTool']>>): ChatAnswer {
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  const structured = result.structuredContent as ChatAnswer | undefined;
  expect(structured).toBeDefined();
  return structured as ChatAnswer;
}

describe.runIf(config.mcp)('/mcp with the MCP SDK client', () => {
  it('initializes, lists the chat tool and calls it', async () => {
    const client = await connect(authHeaders());
    try {
      expect(client.getServerVersion()?.name).toBeTruthy();
      const { tools } = await client.listTools();
      const chat = tools.find((tool) => tool.name === 'chat');
      expect(chat, JSON.stringify(tools)).toBeDefined();
      expect(chat?.inputSchema.required).toEqual(['message']);
      const first = answerOf(await client.callTool({ name: 'chat', arguments: { message: 'hello' } }));
      expect(first.answer.length).toBeGreaterThan(0);
      expect(first.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(first.session_id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      const again = answerOf(
        await client.callTool({ name: 'chat', arguments: { message: 'and again', session_id: first.session_id } }),
      );
      expect(again.session_id).toBe(first.session_id);
      if (config.fakeModel) {
        const sum = answerOf(await client.callTool({ name: 'chat', arguments: { message: 'what is 6*7' } }));
        expect(sum.answer).toContain('42');
      }
    } finally {
      await client.close();
    }
  });

  it.runIf(config.authOn)('refuses the SDK client without a key (HTTP 401)', async () => {
    let caught: unknown;
    try {
      const client = await connect({});
      await client.close();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StreamableHTTPError);
    expect((caught as StreamableHTTPError).code).toBe(401);
  });

  it.runIf(config.authOn)('answers 401 with the error shape to a raw request without a key', async () => {
    const res = await postJson(
      '/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { accept: 'application/json, text/event-stream' },
    );
    expectErrorShape(res, 401, 'unauthorized');
  });
});

describe.runIf(config.mcp && config.mcpEchoTool !== undefined && config.fakeModel)(
  'an MCP server beside the service',
  () => {
    const tool = config.mcpEchoTool as string;

    it('/ready lists it as ok', async () => {
      const res = await get('/ready');
      expect(res.status, res.text).toBe(200);
      expect(res.json.checks[`mcp:${tool.split('__')[0]}`]).toBe('ok');
    });

    it('the agent calls its tool (through /v1/chat and through /mcp)', async () => {
      const message = `use tool ${tool} {"text": "conformance over MCP"}`;
      const res = await postJson('/v1/chat', { message }, authHeaders());
      expect(res.status, res.text).toBe(200);
      expect(res.json.tool_calls).toEqual([{ name: tool, status: 'ok' }]);
      expect(res.json.answer).toContain('echo: conformance over MCP');
      const client = await connect(authHeaders());
      try {
        const viaMcp = answerOf(await client.callTool({ name: 'chat', arguments: { message } }));
        expect(viaMcp.answer).toContain('echo: conformance over MCP');
      } finally {
        await client.close();
      }
    });
  },
);
