/**
 * A child process spoken to in JSON lines: commands written to its stdin, events read from its
 * stdout, its stderr passed through (prefixed) or dropped. Used by the load benchmark for the pool
 * process and the generator processes; the child side reads its commands with `readCommands` and
 * answers with `emitEvent`.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The lines of a UTF-8 byte stream, without their `\n`; an unterminated last line is dropped. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
    }
  }
}

/** In a child: the commands its parent sends, one JSON object per stdin line. */
export async function* readCommands<Command>(): AsyncGenerator<Command> {
  for await (const line of readLines(Deno.stdin.readable)) yield JSON.parse(line) as Command;
}

/** In a child: writes one event line to stdout, synchronously, so events keep their order. */
export function emitEvent(event: { readonly type: string }): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
}

/** A child Deno process exchanging one JSON object per line. */
export class JsonLineChild<Event extends { readonly type: string }> {
  /** The child's process id. */
  readonly pid: number;
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events: Event[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;
  /** Resolves with the exit status once the child has exited. */
  readonly status: Promise<Deno.CommandStatus>;

  /** Starts `deno <args>`; `name` prefixes its stderr lines unless `quiet`. */
  constructor(args: string[], readonly name: string, quiet = false) {
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: quiet ? "null" : "piped",
    }).spawn();
    this.pid = this.#process.pid;
    this.#writer = this.#process.stdin.getWriter();
    void this.#readEvents();
    if (!quiet) void this.#passStderr();
    this.status = this.#process.status;
  }

  /** Sends one command. */
  async send(command: unknown): Promise<void> {
    await this.#writer.write(encoder.encode(JSON.stringify(command) + "\n"));
  }

  /** The next event of type `type` (earlier events of other types are dropped). */
  async next<T extends Event["type"]>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<Event, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.#events.length > 0) {
        const event = this.#events.shift()!;
        if (event.type === type) return event as Extract<Event, { type: T }>;
      }
      if (this.#ended) throw new Error(`${this.name} exited while waiting for "${type}"`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Every event of type `type` received so far and not yet taken (they are taken now). */
  drain<T extends Event["type"]>(type: T): Extract<Event, { type: T }>[] {
    const taken: Extract<Event, { type: T }>[] = [];
    for (let i = 0; i < this.#events.length;) {
      if (this.#events[i].type === type) {
        taken.push(this.#events.splice(i, 1)[0] as Extract<Event, { type: T }>);
      } else i++;
    }
    return taken;
  }

  /** Kills the child (if still running) and waits for it. */
  async kill(): Promise<void> {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.status;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #readEvents(): Promise<void> {
    try {
      for await (const line of readLines(this.#process.stdout)) {
        const event = parseEventLine<Event>(line);
        if (event !== undefined) this.#events.push(event);
        else console.error(`${this.name}: ${line}`);
        this.#wake();
      }
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  async #passStderr(): Promise<void> {
    for await (const line of readLines(this.#process.stderr)) {
      console.error(`[${this.name}] ${line}`);
    }
  }
}

/**
 * The event on `line`, if it holds one. V8's own traces (`--trace-gc`) share the child's stdout
 * and are buffered apart from our writes, so an event can land after part of a trace line: the
 * event is then read from its opening `{"type":`.
 */
function parseEventLine<Event>(line: string): Event | undefined {
  for (let start = 0; start >= 0; start = line.indexOf('{"type":', start + 1)) {
    if (line[start] !== "{") continue;
    try {
      return JSON.parse(line.slice(start)) as Event;
    } catch {
      // not an event from here on
    }
  }
  return undefined;
}
