import express from "express";
import { Http2ServerRequest, Http2ServerResponse } from "node:http2";

type Handle = (this: unknown, req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * Serves HTTP/2 requests with an express app. express gives every request and response its
 * own prototype, built on node:http's IncomingMessage and ServerResponse, which an HTTP/2
 * compatibility request is not (reading its body then fails). The same app, with express's
 * request and response methods laid over the HTTP/2 compatibility classes instead, serves
 * both: one route table, one set of guards, whatever protocol the client chose.
 */
export function http2Listener(app: express.Express): (req: Http2ServerRequest, res: Http2ServerResponse) => void {
  const over = (base: object, methods: object): object => Object.create(base, Object.getOwnPropertyDescriptors(methods)) as object;
  const ownApp = { app: { value: app, configurable: true, enumerable: true, writable: true } };
  const request = Object.create(over(Http2ServerRequest.prototype, express.request), ownApp) as object;
  const response = Object.create(over(Http2ServerResponse.prototype, express.response), ownApp) as object;
  const twin = Object.create(app, { request: { value: request }, response: { value: response } }) as object;
  const handle = (app as unknown as { handle: Handle }).handle;
  return (req, res) => {
    // An HTTP/2 body is framed by its stream and need not be announced by a length; the body
    // parsers read one only when a length or a transfer coding says it is there.
    if (req.headers["content-length"] === undefined && !req.stream.endAfterHeaders) req.headers["transfer-encoding"] = "chunked";
    handle.call(twin, req, res);
  };
}
