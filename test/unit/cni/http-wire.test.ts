import { describe, expect, it } from "@jest/globals";
import { MalformedResponseError, parseResponse, requestBytes } from "../../../cni/http-wire.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

describe("requestBytes", () => {
  it("writes one request with its byte length (not its character count) and Connection: close", () => {
    const text = requestBytes("POST", "/v1/cni/add", '{"n":"é"}').toString("utf8");
    expect(text).toBe('POST /v1/cni/add HTTP/1.1\r\nHost: spiderpool-agent\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"n":"é"}');
  });
});

describe("parseResponse", () => {
  const head = "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n";

  it("waits for the header block and for Content-Length bytes, then ignores anything after them", () => {
    expect(parseResponse(b("HTTP/1.1 200 OK\r\nContent-Le"), false)).toBeUndefined();
    expect(parseResponse(b(`${head}Content-Length: 4\r\n\r\n{"a`), false)).toBeUndefined();
    const done = parseResponse(b(`${head}content-length: 4\r\n\r\n{"a}extra`), false);
    expect(done?.status).toBe(409);
    expect(done?.body.toString()).toBe('{"a}');
  });

  it("decodes a chunked body once its last chunk arrived", () => {
    const chunked = `${head}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA;ext=1\r\n0123456789\r\n`;
    expect(parseResponse(b(chunked), false)).toBeUndefined();
    expect(parseResponse(b(`${chunked}0\r\n\r\n`), false)?.body.toString()).toBe("abc0123456789");
    expect(() => parseResponse(b(chunked), true)).toThrow(MalformedResponseError);
  });

  it("without a length, the body is what arrived before the connection closed", () => {
    expect(parseResponse(b("HTTP/1.0 500 Oops\r\n\r\nnot json"), false)).toBeUndefined();
    expect(parseResponse(b("HTTP/1.0 500 Oops\r\n\r\nnot json"), true)).toEqual({ status: 500, body: b("not json") });
  });

  it.each([
    ["nothing at all", ""],
    ["a header block that never ends", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"],
    ["a status line of another protocol", "SSH-2.0-OpenSSH\r\n\r\n"],
    ["a Content-Length that is not a number", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
    ["fewer body bytes than promised", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}"],
  ])("refuses %s once the connection closed", (_what, text) => {
    expect(() => parseResponse(b(text), true)).toThrow(MalformedResponseError);
  });
});
