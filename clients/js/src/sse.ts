// Server-Sent Events from a fetch body: the WHATWG event-stream rules as OpenAI-compatible
// servers use them. Lines end with \n, \r\n or \r (a chunk may split any of them);
// "data:" lines of one event are joined with \n; ":" starts a comment (keep-alives);
// a blank line dispatches the event.

export interface SseEvent {
  event: string; // "" when the server names none
  data: string;
}

export class SseParser {
  private line = '';
  private lastWasCr = false;
  private data: string[] = [];
  private event = '';

  // Feeds decoded text; returns the events it completed.
  feed(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    for (const ch of text) {
      if (ch === '\n' && this.lastWasCr) {
        this.lastWasCr = false;
        continue;
      }
      this.lastWasCr = ch === '\r';
      if (ch === '\n' || ch === '\r') {
        const ev = this.endLine();
        if (ev) out.push(ev);
      } else {
        this.line += ch;
      }
    }
    return out;
  }

  private endLine(): SseEvent | undefined {
    const line = this.line;
    this.line = '';
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const ev = { event: this.event, data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }
}

// The events of a streamed response body, as they arrive.
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    yield* parser.feed(decoder.decode() + '\n\n');
  } finally {
    reader.releaseLock();
  }
}
