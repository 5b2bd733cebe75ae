/**
 * A chat-completions server whose answers are scripts of raw writes (strings or bytes), each flushed as its own TCP
 * write with a pause between, so SSE frames arrive split where a test says. Records each request and each connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Write = string | Uint8Array | { readonly pauseMs: number } | { readonly stall: true };

export interface Script {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly writes: readonly Write[];
  /** Leave the response open after the writes (as a stalled provider does). */
  readonly keepOpen?: boolean;
}

export class SseServer {
  readonly requests: { body: Record<string, any>; headers: IncomingMessage['headers'] }[] = [];
  readonly #queue: Script[] = [];
  readonly #sockets = new Set<Socket>();
  /** Connections closed by the client (or by either side) so far. */
  closed = 0;
  private constructor(readonly server: Server) {}

  static async start(): Promise<SseServer> {
    let self!: SseServer;
    const server = createServer((req, res) => void self.#handle(req, res));
    self = new SseServer(server);
    server.on('connection', (socket) => {
      self.#sockets.add(socket);
      socket.setNoDelay(true);
      socket.once('close', () => {
        self.#sockets.delete(socket);
        self.closed += 1;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Open TCP connections now. */
  get open(): number {
    return this.#sockets.size;
  }

  reply(...scripts: Script[]): this {
    this.#queue.push(...scripts);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    this.requests.push({ body: raw ? JSON.parse(raw) : {}, headers: req.headers });
    const script = this.#queue.shift();
    if (!script) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'no scripted reply' } }));
      return;
    }
    res.writeHead(script.status ?? 200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      ...script.headers,
    });
    res.flushHeaders();
    for (const write of script.writes) {
      if (res.destroyed) return;
      if (typeof write === 'object' && 'pauseMs' in write) {
        await new Promise((resolve) => setTimeout(resolve, write.pauseMs));
        continue;
      }
      if (typeof write === 'object' && 'stall' in write) return; // never ends
      res.write(write);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    if (!script.keepOpen) res.end();
  }
}

const BASE = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };

/** The JSON of a chunk of choice 0. */
export function chunkJson(delta: Record<string, unknown>, finish: string | null, extra: object = {}): string {
  return JSON.stringify({ ...BASE, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
}

/** A whole `data: …\n\n` frame of choice 0. */
export function frame(delta: Record<string, unknown>, finish: string | null, extra: object = {}): string {
  return `data: ${chunkJson(delta, finish, extra)}\n\n`;
}

/** A usage-only final chunk, as OpenAI sends with stream_options.include_usage. */
export function usageFrame(): string {
  return `data: ${JSON.stringify({ ...BASE, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`;
}
