/**
 * A local HTTP server speaking Anthropic's messages API (JSON and SSE) and Gemini's
 * generateContent / streamGenerateContent (JSON and `alt=sse`), or OpenAI's chat completions when told to
 * ({@link openAIChatText}), recording every request, and a global `fetch`
 * stand-in that lets requests to 127.0.0.1 through and refuses every other host at once (recording it), so no test
 * ever reaches the internet.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, any>;
}

export type Answer = (request: SeenRequest, res: ServerResponse) => void;

export class ProviderServer {
  readonly requests: SeenRequest[] = [];
  answer: Answer = anthropicOrGeminiText('Answer: local');
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ProviderServer> {
    let me: ProviderServer | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const seen: SeenRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: raw ? (JSON.parse(raw) as Record<string, any>) : {},
        };
        me!.requests.push(seen);
        me!.answer(seen, res);
      });
    });
    me = new ProviderServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return me;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Replaces the global `fetch` (before the language model is built: Tether captures it then): 127.0.0.1 goes through;
 * any other host is recorded in the returned list and refused at once, so that no test reaches the internet.
 */
export function guardFetch(): string[] {
  const outside: string[] = [];
  const real = globalThis.fetch;
  vi.stubGlobal('fetch', async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith('http://127.0.0.1:')) return real(input, init);
    outside.push(url);
    throw new TypeError('fetch failed', { cause: new Error(`blocked by the test: ${url}`) });
  });
  return outside;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export const sendJson = json;

export const sendSse = (res: ServerResponse, events: readonly (readonly [string | undefined, unknown])[]): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [type, data] of events) res.write(`${type ? `event: ${type}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  res.end();
};

/** A whole or streamed answer of `text`, in Anthropic's protocol or Gemini's, whichever the request speaks. */
export function anthropicOrGeminiText(text: string): Answer {
  return (request, res) => {
    if (request.path.includes('/messages')) {
      const model = request.body.model;
      if (request.body.stream === true) {
        sendSse(res, [
          [
            'message_start',
            {
              type: 'message_start',
              message: {
                id: 'msg_1',
                type: 'message',
                role: 'assistant',
                model,
                content: [],
                stop_reason: null,
                usage: { input_tokens: 5, output_tokens: 0 },
              },
            },
          ],
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
          ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }],
          ['content_block_stop', { type: 'content_block_stop', index: 0 }],
          ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }],
          ['message_stop', { type: 'message_stop' }],
        ]);
      } else {
        json(res, 200, {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 5, output_tokens: 3 },
        });
      }
      return;
    }
    const answer = {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
    };
    if (request.path.includes('alt=sse')) sendSse(res, [[undefined, answer]]);
    else json(res, 200, answer);
  };
}

/**
 * A whole or streamed OpenAI chat completion of `text` (whichever the request asks for), ending with `finishReason`:
 * what an OpenAI-protocol provider (Azure, DeepSeek, Mistral, …) answers.
 */
export function openAIChatText(text: string, finishReason = 'stop'): Answer {
  return (request, res) => {
    const base = { id: 'chatcmpl-1', created: 1, model: request.body.model };
    if (request.body.stream !== true) {
      json(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason }],
        usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [delta, finish] of [
      [{ role: 'assistant', content: text }, null],
      [{}, finishReason],
    ] as const)
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    res.end('data: [DONE]\n\n');
  };
}
