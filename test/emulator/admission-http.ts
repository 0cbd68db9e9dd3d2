import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerReview, reviewResponse, type AdmissionReview, type MeshView } from './admission.ts';

/**
 * One webhook call over HTTP: reads the AdmissionReview body, answers it for the mesh in
 * `meshNamespace` (the namespace of the pod the API server dialled, or the /mesh/<ns> prefix of a
 * loopback URL). A bad body gets a 400 AdmissionReview, an emulator bug a refusal; never a crash.
 */
const maxBody = 8 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function handleAdmission(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  meshNamespace: string | undefined,
  view: MeshView,
  log: (l: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > maxBody) {
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('error', (e) => log(`error: reading ${pathname}: ${e.message}`));
  req.on('end', () => {
    let review: AdmissionReview;
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
    } catch (err) {
      log(`error: ${pathname}: body is not JSON: ${(err as Error).message}`);
      return sendJson(
        res,
        400,
        reviewResponse({}, { allowed: false, code: 400, message: 'body is not a JSON AdmissionReview' }),
      );
    }
    try {
      sendJson(res, 200, answerReview(pathname, review ?? {}, view, log, meshNamespace));
    } catch (err) {
      log(`error: ${pathname}: ${(err as Error).message}`);
      sendJson(
        res,
        200,
        reviewResponse(review ?? {}, {
          allowed: false,
          code: 500,
          message: `mesh emulator error: ${(err as Error).message}`,
        }),
      );
    }
  });
}

/** Splits a loopback URL path into the mesh namespace (if any) and the chart's path: /mesh/<ns>/inject. */
export function parseRequestPath(pathname: string): { meshNamespace?: string; path: string } {
  const m = /^\/mesh\/([^/]+)(\/.*)?$/.exec(pathname);
  return m ? { meshNamespace: decodeURIComponent(m[1]!), path: m[2] ?? '/' } : { path: pathname };
}
