/**
 * The control channel of `punt6 run` (a Unix socket, `control.socket` in the configuration), in
 * the shape of Kea's: one JSON request per connection, `{"command": NAME, "arguments": {…}}`,
 * ended by a newline (or by closing the sending side); one JSON response, `{"result": N,
 * "text": "…", "arguments": …}`, ended by a newline, then the server closes the connection.
 * `result` is 0 for success, 1 for an error, 2 for a command it does not know, 3 when the
 * command found nothing (a lease that is not there). docs/operations.md lists the commands.
 */

import { createConnection } from 'node:net';

export const ControlResult = {
  Success: 0,
  Error: 1,
  Unsupported: 2,
  Empty: 3,
} as const;
export type ControlResult = (typeof ControlResult)[keyof typeof ControlResult];

export interface ControlRequest {
  command: string;
  arguments?: Record<string, unknown>;
}

export interface ControlResponse {
  result: ControlResult;
  text: string;
  arguments?: unknown;
}

/** The longest request the server reads; a longer one is refused. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** The socket cannot be reached, or what came back is not a response. */
export class ControlError extends Error {}

/**
 * Sends one request to the control socket at `path` and resolves with the response; rejects
 * with ControlError when nobody answers there, the answer is not JSON, or `timeoutMs` passes.
 */
export function askControl(path: string, request: ControlRequest, timeoutMs = 30_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    const fail = (message: string): void => {
      socket.destroy();
      reject(new ControlError(message));
    };
    socket.setTimeout(timeoutMs, () => fail(`${path}: no answer within ${timeoutMs} ms`));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ENOENT'
          ? 'no such socket (is punt6 running with control.socket set?)'
          : e.code === 'ECONNREFUSED'
            ? 'nobody answers on it (punt6 is not running?)'
            : e.code === 'EACCES'
              ? "permission denied (the socket is its owner's only: run as the user punt6 runs as)"
              : e.message;
      fail(`${path}: ${why}`);
    });
    socket.on('end', () => {
      socket.setTimeout(0);
      try {
        const r = JSON.parse(data) as ControlResponse;
        if (typeof r.result !== 'number' || typeof r.text !== 'string') throw new Error('not a response');
        resolve(r);
      } catch {
        reject(
          new ControlError(`${path}: the answer is not a control response: ${JSON.stringify(data.slice(0, 200))}`),
        );
      }
    });
  });
}
