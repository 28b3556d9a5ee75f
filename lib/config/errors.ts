/**
 * The one error type of configuration loading: one line naming the file, the key, what was
 * expected and what was found.
 *
 * @module
 */

/** Details of a configuration problem. */
export interface ConfigErrorDetails {
  /** The file (or "command line") the problem is in. */
  readonly file: string;
  /** Dotted key (`stratum.max_line_bytes`), or "" when the problem is not about one key. */
  readonly key: string;
  /** What is wrong, e.g. "expected an integer from 1024 to 1048576, found 100". */
  readonly reason: string;
  /** 1-based line in `file`, when known. */
  readonly line?: number;
  /** 1-based column in `file`, when known. */
  readonly column?: number;
}

/** Bad configuration; `message` is a single line fit for stderr. */
export class ConfigError extends Error {
  /** The file (or "command line") the problem is in. */
  readonly file: string;
  /** Dotted key, or "" when the problem is not about one key. */
  readonly key: string;
  /** What is wrong, without the file and key. */
  readonly reason: string;
  /** 1-based line in `file`, when known. */
  readonly line: number | undefined;

  /** Builds the one-line message `file[:line[:column]]: key: reason` from `details`. */
  constructor(details: ConfigErrorDetails, options?: ErrorOptions) {
    const where = details.line === undefined
      ? details.file
      : `${details.file}:${details.line}${
        details.column === undefined ? "" : `:${details.column}`
      }`;
    const key = details.key === "" ? "" : ` ${details.key}:`;
    super(`${where}:${key} ${oneLine(details.reason)}`, options);
    this.name = "ConfigError";
    this.file = details.file;
    this.key = details.key;
    this.reason = details.reason;
    this.line = details.line;
  }
}

/** Builds the usual "expected X, found Y" error. */
export function expectedError(
  file: string,
  key: string,
  expected: string,
  found: string,
): ConfigError {
  return new ConfigError({ file, key, reason: `expected ${expected}, found ${found}` });
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
