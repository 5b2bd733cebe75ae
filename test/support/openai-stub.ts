/**
 * A local HTTP server speaking the OpenAI chat-completions protocol (streaming SSE and plain JSON), so tests run
 * Ax's real OpenAI provider code without the internet. It records every request body and answers from a script
 * of replies: text, tool calls, or an HTTP error with an OpenAI-style error body.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLanguageModel, type LanguageModel } from '../../src/modules/index.js';

/** An answer's `usage` block, as OpenAI sends it. */
export interface StubUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** One scripted answer. Text and tool calls go with `usage` when given (`null`: none), else the stub's own. */
export type StubReply =
  | {
      readonly kind: 'text';
      readonly content: string;
      readonly usage?: StubUsage | null;
      /** Streamed, sent with the first piece too: a provider's running count, which the last block replaces. */
      readonly runningUsage?: StubUsage;
    }
  | {
      readonly kind: 'tool_calls';
      /** Each call's arguments go out as JSON, or as `rawArguments` when given (a model's broken JSON, say). */
      readonly calls: readonly { readonly name: string; readonly arguments: unknown; readonly rawArguments?: string }[];
      readonly usage?: StubUsage | null;
    }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly message: string;
      readonly type?: string;
      readonly code?: string;
      /** Sent with it: a 429's `retry-after`, say. */
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** A body sent as it is, with status 200 unless given: what a proxy in front of the provider may answer. */
  | { readonly kind: 'raw'; readonly body: string; readonly status?: number; readonly contentType?: string }
  /**
   * The connection dropped (reset): before any answer, or, given `partial`, after a 200 event stream sent that much of
   * itself, as a provider that fails mid-answer.
   */
  | { readonly kind: 'reset'; readonly partial?: string };

/** A request as the stub received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body (`model`, `temperature`, `max_completion_tokens`, `messages`, `tools`, `stream`, …). */
  readonly body: Record<string, any>;
}

/** Text reply helper: `text('Answer: Paris')`, with its `usage` block when given. */
export const text = (content: string, usage?: StubUsage | null): StubReply =>
  usage === undefined ? { kind: 'text', content } : { kind: 'text', content, usage };
/** Tool-call reply helper: `toolCall('lookup', { q: 'x' })`, with its `usage` block when given. */
export const toolCall = (name: string, args: unknown, usage?: StubUsage | null): StubReply => ({
  kind: 'tool_calls',
  calls: [{ name, arguments: args }],
  ...(usage === undefined ? {} : { usage }),
});
/** Error reply helper: `httpError(500, 'The server had an error')`. */
export const httpError = (
  status: number,
  message: string,
  type = status === 401 ? 'invalid_request_error' : 'server_error',
  headers?: Readonly<Record<string, string>>,
): StubReply => ({
  kind: 'error',
  status,
  message,
  type,
  ...(status === 401 ? { code: 'invalid_api_key' } : {}),
  ...(headers ? { headers } : {}),
});

/** The usage block of an answer whose reply names none, unless a test says otherwise. */
const DEFAULT_USAGE: StubUsage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

/** What the stub answers when nothing is queued, unless a test says otherwise. */
const DEFAULT_FALLBACK = (): StubReply => text('Answer: stub answer');

/** The stub server. Start with {@link OpenAIStub.start}; always {@link OpenAIStub.close}. */
export class OpenAIStub {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  readonly #queue: StubReply[] = [];
  /** Milliseconds to wait before answering each request (for cancellation tests); a closed connection ends it. */
  delayMs = 0;
  /** Requests whose client hung up (aborted them) before they were answered, counted as the connection closes. */
  abandoned = 0;
  /** Set while answers are held (see {@link OpenAIStub.hold}). */
  #held: { readonly until: Promise<void>; readonly release: () => void } | undefined;
  /** Answers when the script is empty. */
  fallback: (request: RecordedRequest) => StubReply = DEFAULT_FALLBACK;
  /** The usage block of an answer whose reply names none; `null` sends none. */
  usage: StubUsage | null = DEFAULT_USAGE;
  /** Every usage block sent, in order: one per answer (a request for several choices included). */
  readonly usagesSent: StubUsage[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts on 127.0.0.1 at a random free port. */
  static async start(): Promise<OpenAIStub> {
    let stub: OpenAIStub | undefined;
    const server = createServer((req, res) => void stub!.#handle(req, res));
    stub = new OpenAIStub(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return stub;
  }

  /** The base URL to give a provider (`http://127.0.0.1:<port>/v1`). */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  /** Holds every answer, as a provider that takes as long as the test needs, until {@link OpenAIStub.release}. */
  hold(): void {
    if (this.#held) return;
    let release!: () => void;
    const until = new Promise<void>((resolve) => (release = resolve));
    this.#held = { until, release };
  }

  /** Lets the held answers go (and those to come). */
  release(): void {
    this.#held?.release();
    this.#held = undefined;
  }

  /** Appends replies to the script; each request consumes one. */
  reply(...replies: StubReply[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Drops the replies still scripted: a request a test aborted before it was answered leaves its reply queued. */
  forgetReplies(): void {
    this.#queue.length = 0;
  }

  /** The chat-completion requests only (Ax may probe nothing else, but be explicit). */
  get chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/chat/completions'));
  }

  /** Stops the server and drops open connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Counted when the connection closes, not when the answer is due: a test can wait for the hang-up itself.
    res.once('close', () => {
      if (!res.writableEnded) this.abandoned += 1;
    });
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // The client hung up while sending the body.
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, any> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
    } catch {
      body = { unparsable: raw };
    }
    const request: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    this.requests.push(request);
    if (this.#held) await this.#held.until;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (res.destroyed) return;
    const reply = this.#queue.shift() ?? this.fallback(request);
    if (reply.kind === 'reset') {
      if (reply.partial === undefined) return void res.socket?.resetAndDestroy();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(reply.partial);
      // Once the part is on its way, so the client reads it before the connection drops.
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
      return;
    }
    if (reply.kind === 'raw') {
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/html' });
      res.end(reply.body);
      return;
    }
    if (reply.kind === 'error') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify({
          error: { message: reply.message, type: reply.type ?? 'server_error', param: null, code: reply.code ?? null },
        }),
      );
      return;
    }
    const model = String(body.model ?? 'stub-model');
    const message =
      reply.kind === 'text'
        ? { role: 'assistant', content: reply.content }
        : {
            role: 'assistant',
            content: null,
            tool_calls: reply.calls.map((call, index) => ({
              id: `call_${this.requests.length}_${index}`,
              type: 'function',
              function: { name: call.name, arguments: call.rawArguments ?? JSON.stringify(call.arguments) },
            })),
          };
    const finish = reply.kind === 'text' ? 'stop' : 'tool_calls';
    // A request for `n` samples (MultiChainComparison, BestOfN) gets `n` choices, each the scripted reply.
    const indexes = Array.from({ length: choiceCount(body.n) }, (_, index) => index);
    const usage = reply.usage === undefined ? this.usage : reply.usage;
    if (usage) this.usagesSent.push(usage);
    const base = { id: `chatcmpl-${this.requests.length}`, created: 1_700_000_000, model };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: indexes.map((index) => ({ index, message, finish_reason: finish })),
          ...(usage ? { usage } : {}),
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = { ...base, object: 'chat.completion.chunk' };
    for (const index of indexes) {
      if (reply.kind === 'text') {
        // Two content pieces, to exercise Ax's delta assembly rather than a single-chunk shortcut.
        const cut = Math.ceil(reply.content.length / 2);
        send({
          ...chunk,
          choices: [{ index, delta: { role: 'assistant', content: reply.content.slice(0, cut) }, finish_reason: null }],
          ...(index === 0 && reply.runningUsage ? { usage: reply.runningUsage } : {}),
        });
        send({ ...chunk, choices: [{ index, delta: { content: reply.content.slice(cut) }, finish_reason: null }] });
      } else {
        const calls = (message.tool_calls ?? []).map((call, at) => ({ index: at, ...call }));
        send({
          ...chunk,
          choices: [{ index, delta: { role: 'assistant', content: null, tool_calls: calls }, finish_reason: null }],
        });
      }
      send({
        ...chunk,
        choices: [{ index, delta: {}, finish_reason: finish }],
        ...(index === 0 && usage ? { usage } : {}),
      });
    }
    res.write('data: [DONE]\n\n');
    res.end();
  }
}

/** How many choices a request's `n` asks for: one unless it is a whole number above one (capped, as a guard). */
function choiceCount(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n > 1 ? Math.min(n, 128) : 1;
}

/**
 * One stub for a test file: started before its tests, emptied (requests, replies, delay, fallback, hold) after each,
 * closed after all. Returns the stub and a language model that talks to it through the real Ax OpenAI provider; give
 * each node its own API `key` to tell from a request's `authorization` header which node sent it.
 */
export function useOpenAIStub(): { stub: () => OpenAIStub; llm: (key?: string) => LanguageModel } {
  let stub: OpenAIStub | undefined;
  beforeAll(async () => {
    stub = await OpenAIStub.start();
  });
  afterEach(() => {
    if (!stub) return;
    stub.requests.length = 0;
    stub.usagesSent.length = 0;
    stub.usage = DEFAULT_USAGE;
    stub.forgetReplies();
    stub.delayMs = 0;
    stub.fallback = DEFAULT_FALLBACK;
    stub.release();
  });
  afterAll(async () => {
    await stub?.close();
  });
  const current = (): OpenAIStub => {
    if (!stub) throw new Error('useOpenAIStub(): the stub starts in beforeAll');
    return stub;
  };
  return {
    stub: current,
    llm: (key = 'sk-test') =>
      createLanguageModel({ provider: 'openai', url: current().url, key, model: 'gpt-4o-mini' }),
  };
}
