// A mock OpenAI-compatible Chat Completions endpoint for the streaming bench
// (scripts/bench/streaming.mjs), run as its own process so its CPU is not the
// bench client's:  node scripts/bench/mock_upstream.mjs PORT TOKENS INTERVAL_MS
//
// POST /v1/chat/completions with "stream": true answers TOKENS content chunks,
// one every INTERVAL_MS, then a finish_reason chunk, a usage chunk and [DONE];
// without "stream" it answers the whole completion at once. It prints
// "listening" once it accepts connections.
import http from 'node:http';

const [port, tokens = '50', interval = '20'] = process.argv.slice(2);
const TOKENS = Number(tokens);
const INTERVAL_MS = Number(interval);
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const word = (i) => `${i === 0 ? '' : ' '}${WORDS[i % WORDS.length]}`;
const chunk = (obj) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', ...obj })}\n\n`;

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
    res.writeHead(404).end();
    return;
  }
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
      return;
    }
    const usage = { prompt_tokens: 20, completion_tokens: TOKENS, total_tokens: 20 + TOKENS };
    if (!body.stream) {
      const content = Array.from({ length: TOKENS }, (_, i) => word(i)).join('');
      const answer = { id: 'chatcmpl-bench', object: 'chat.completion', created: 0, model: 'bench', usage };
      answer.choices = [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let i = 0;
    const timer = setInterval(() => {
      if (i < TOKENS) {
        res.write(chunk({ choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: word(i) } : { content: word(i) }, finish_reason: null }] }));
        i += 1;
        return;
      }
      clearInterval(timer);
      res.write(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
      res.write(chunk({ choices: [], usage }));
      res.end('data: [DONE]\n\n');
    }, INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 100_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
