import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';

export interface Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LocalEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** An HTTP server on loopback answering each request (with its whole body read) through `handle`. */
export async function startLocalEndpoint(handle: (req: IncomingMessage, body: string) => Reply): Promise<LocalEndpoint> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    req.on('end', () => {
      const reply = handle(req, body);
      res.writeHead(reply.status ?? 200, reply.headers);
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
