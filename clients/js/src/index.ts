// AxClient: ax-engine-server over HTTP, with no runtime dependencies (fetch and the
// SSE parser in sse.ts).
//
//   const ax = new AxClient({ baseUrl: 'http://127.0.0.1:8080' });
//   const out = await ax.completions({ prompt: 'def read_lines(path):\n', max_tokens: 32 });
//   for await (const chunk of ax.streamChat({ messages: [{ role: 'user', content: 'Hi' }] }))
//     process.stdout.write(chunk.choices[0]?.delta.content ?? '');
//   (await ax.runtime()).support_tier;  // 'repo_owned' | 'openai_delegated' | 'llama_cpp'
//
// The route is the server's: serverArgs() (session.ts) writes the ax-engine-server
// flags of a SessionConfig (policy repo_owned | openai_delegated | llama_cpp | auto,
// the upstream's URL, the engine's options), and runtime() reports what it resolved to.
//
// Every failure is an AxError carrying the HTTP status and the server's error fields
// (message, type, param, code); an error event inside a stream is thrown the same way.
import { readSse } from './sse';
import type {
  ChatChunk, ChatCompletion, ChatRequest, Completion, CompletionChunk, CompletionRequest, GenerateChunk,
  GenerateRequest, GenerateResponse, Model, RuntimeReport,
} from './types';

export * from './types';
export * from './session';
export { SseParser, readSse } from './sse';
export type { SseEvent } from './sse';

export interface ClientOptions {
  baseUrl: string; // "http://host:port" (a trailing "/v1" is accepted)
  apiKey?: string;
  fetch?: typeof fetch; // default: the global fetch
  headers?: Record<string, string>;
}

export class AxError extends Error {
  constructor(
    message: string,
    readonly status: number, // HTTP status (0: no answer)
    readonly type: string | null = null,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'AxError';
  }
}

// An OpenAI-shaped error body ({"error": {...}}) as an AxError.
function toError(status: number, body: unknown, fallback: string): AxError {
  const e = (body as { error?: { message?: string; type?: string; param?: string; code?: string } })?.error;
  if (e && typeof e.message === 'string') return new AxError(e.message, status, e.type ?? null, e.param ?? null, e.code ?? null);
  return new AxError(fallback, status);
}

export class AxClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    if (!/^https?:\/\//.test(opts.baseUrl)) throw new AxError(`baseUrl: expected http(s)://HOST:PORT, got '${opts.baseUrl}'`, 0);
    this.base = opts.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    const f = opts.fetch ?? globalThis.fetch;
    if (!f) throw new AxError('no fetch: pass options.fetch (Node 18+ and browsers have one)', 0);
    this.fetchFn = f.bind(globalThis);
  }

  completions(req: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    return this.post('/v1/completions', { ...req, stream: false }, signal);
  }
  streamCompletions(req: CompletionRequest, signal?: AbortSignal): AsyncGenerator<CompletionChunk> {
    return this.stream('/v1/completions', req, signal);
  }
  chat(req: ChatRequest, signal?: AbortSignal): Promise<ChatCompletion> {
    return this.post('/v1/chat/completions', { ...req, stream: false }, signal);
  }
  streamChat(req: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatChunk> {
    return this.stream('/v1/chat/completions', req, signal);
  }
  // The native token route (not on delegated servers: their answers carry no ids).
  generate(req: GenerateRequest, signal?: AbortSignal): Promise<GenerateResponse> {
    return this.post('/v1/generate', { ...req, stream: false }, signal);
  }
  streamGenerate(req: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerateChunk> {
    return this.stream('/v1/generate', req, signal, false);
  }
  runtime(): Promise<RuntimeReport> {
    return this.get('/v1/runtime');
  }
  async models(): Promise<Model[]> {
    const list = await this.get<{ data: Model[] }>('/v1/models');
    return list.data;
  }

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { ...(this.opts.headers ?? {}) };
    if (json) h['Content-Type'] = 'application/json';
    if (this.opts.apiKey) h['Authorization'] = `Bearer ${this.opts.apiKey}`;
    return h;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, init);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new AxError(`${this.base}${path}: no answer (${(err as Error)?.message ?? err})`, 0);
    }
    if (!res.ok) {
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw toError(res.status, body, `${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    return res;
  }

  private async get<T>(path: string): Promise<T> {
    const res = await this.send(path, { method: 'GET', headers: this.headers(false) });
    return (await res.json()) as T;
  }

  private async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(path, { method: 'POST', headers: this.headers(true), body: JSON.stringify(body), signal });
    return (await res.json()) as T;
  }

  // Yields each JSON chunk until [DONE]; an {"error": ...} event is thrown as AxError.
  private async *stream<T>(path: string, req: object, signal?: AbortSignal, usage = true): AsyncGenerator<T> {
    const body = { ...req, stream: true, ...(usage ? { stream_options: { include_usage: true } } : {}) };
    const res = await this.send(path, { method: 'POST', headers: this.headers(true), body: JSON.stringify(body), signal });
    if (!res.body) throw new AxError(`${path}: the response has no body`, res.status);
    for await (const ev of readSse(res.body)) {
      if (ev.data === '[DONE]') return;
      let chunk: unknown;
      try {
        chunk = JSON.parse(ev.data);
      } catch {
        throw new AxError(`${path}: an SSE event is not JSON: ${ev.data.slice(0, 200)}`, res.status);
      }
      if ((chunk as { error?: unknown }).error) throw toError(res.status, chunk, `${path}: error event`);
      yield chunk as T;
    }
    throw new AxError(`${path}: the stream ended without [DONE]`, res.status);
  }
}
