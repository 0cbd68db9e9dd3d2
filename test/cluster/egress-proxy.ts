// The API server's egress proxy for "cluster" traffic (EgressSelectorConfiguration, HTTPConnect
// over a Unix socket). The API server reaches admission webhooks and aggregated APIs that
// reference in-cluster Services through it, after resolving the Service to its endpoints
// (--enable-aggregator-routing). Pods are fake here (KWOK), so every tunnel is connected to the
// mesh emulator, which plays the mesh's containers. When the emulator is not running, or the
// Service has no ready endpoints, the call fails, as it does when a real mesh is down.
//
// Usage: node egress-proxy.ts --socket PATH --emulator-port-file FILE
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { socket: { type: 'string' }, 'emulator-port-file': { type: 'string' } } });
const socketPath = values.socket!;
const portFile = values['emulator-port-file']!;
const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

function emulatorPort(): number | undefined {
  try {
    const n = Number(fs.readFileSync(portFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

const server = http.createServer((_req, res) => { res.writeHead(405); res.end('CONNECT only\n'); });
server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  const target = req.url ?? '';
  const port = emulatorPort();
  if (port === undefined) {
    log(`CONNECT ${target}: refused (mesh emulator not running)`);
    client.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
    return;
  }
  const upstream = net.connect(port, '127.0.0.1', () => {
    client.write('HTTP/1.1 200 Connection established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (e) => { log(`CONNECT ${target}: ${e.message}`); client.destroy(); });
  client.on('error', () => upstream.destroy());
});

fs.rmSync(socketPath, { force: true });
server.listen(socketPath, () => {
  fs.chmodSync(socketPath, 0o600);
  log(`egress proxy listening on ${socketPath}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
