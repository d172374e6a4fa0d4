import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main, parseArgs, smokeTest } from '../../codebuild/smoke-test';

/** A local server answering from a script of status codes; 0 means "never answer". */
function startServer(statuses: number[]): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    const status = statuses[Math.min(hits, statuses.length - 1)];
    hits++;
    if (status === 0) return; // hang: the client's timeout must fire
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'ok' : 'not ok');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/health`, server, hits: () => hits });
    }),
  );
}

const noSleep = async () => undefined;
const quiet = () => undefined;

describe('smoke test', () => {
  let servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
    servers = [];
  });

  test('passes on the first 2xx', async () => {
    const s = await startServer([200]);
    servers.push(s.server);
    const result = await smokeTest({
      url: s.url,
      attempts: 3,
      intervalMs: 0,
      timeoutMs: 2000,
      sleep: noSleep,
      log: quiet,
    });
    expect(result).toEqual({ ok: true, attempts: 1, lastStatus: 200 });
    expect(s.hits()).toBe(1);
  });

  test('retries through failures, then passes', async () => {
    const s = await startServer([503, 502, 200]);
    servers.push(s.server);
    const sleeps: number[] = [];
    const result = await smokeTest({
      url: s.url,
      attempts: 5,
      intervalMs: 1234,
      timeoutMs: 2000,
      sleep: async (ms) => void sleeps.push(ms),
      log: quiet,
    });
    expect(result).toEqual({ ok: true, attempts: 3, lastStatus: 200 });
    expect(sleeps).toEqual([1234, 1234]);
  });

  test('fails after the bounded attempts on a persistent error', async () => {
    const s = await startServer([500]);
    servers.push(s.server);
    const result = await smokeTest({
      url: s.url,
      attempts: 4,
      intervalMs: 0,
      timeoutMs: 2000,
      sleep: noSleep,
      log: quiet,
    });
    expect(result).toEqual({ ok: false, attempts: 4, lastStatus: 500, lastError: undefined });
    expect(s.hits()).toBe(4);
  });

  test('a server that never answers fails on the per-request timeout', async () => {
    const s = await startServer([0]);
    servers.push(s.server);
    const started = Date.now();
    const result = await smokeTest({
      url: s.url,
      attempts: 2,
      intervalMs: 0,
      timeoutMs: 200,
      sleep: noSleep,
      log: quiet,
    });
    expect(result.ok).toBe(false);
    expect(result.lastError).toBe('no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a refused connection is retried and reported', async () => {
    const s = await startServer([200]);
    const { url } = s;
    await new Promise((r) => s.server.close(r));
    const lines: string[] = [];
    const result = await smokeTest({
      url,
      attempts: 2,
      intervalMs: 0,
      timeoutMs: 1000,
      sleep: noSleep,
      log: (l) => lines.push(l),
    });
    expect(result.ok).toBe(false);
    expect(result.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    expect(lines).toHaveLength(2);
  });

  test('arguments: defaults, overrides and bad input', () => {
    expect(parseArgs(['https://app.staging.getorcha.com/health'])).toEqual({
      url: 'https://app.staging.getorcha.com/health',
      attempts: 20,
      intervalMs: 15000,
      timeoutMs: 10000,
    });
    expect(
      parseArgs(['https://x/h', '--attempts', '3', '--interval-seconds', '2', '--timeout-seconds', '5']),
    ).toMatchObject({ attempts: 3, intervalMs: 2000, timeoutMs: 5000 });
    expect(() => parseArgs([])).toThrow(/usage/);
    expect(() => parseArgs(['ftp://x'])).toThrow(/http/);
    expect(() => parseArgs(['https://x', '--attempts', '0'])).toThrow(/--attempts must be a positive number/);
    expect(() => parseArgs(['https://x', '--retries', '3'])).toThrow(/unknown option --retries/);
  });

  test('exit codes: 0 on success, 1 on failure, 2 on usage errors', async () => {
    const ok = await startServer([200]);
    const bad = await startServer([500]);
    servers.push(ok.server, bad.server);
    const log = jest.spyOn(console, 'log').mockImplementation(quiet);
    const err = jest.spyOn(console, 'error').mockImplementation(quiet);
    try {
      expect(await main([ok.url, '--attempts', '1'])).toBe(0);
      expect(await main([bad.url, '--attempts', '1'])).toBe(1);
      expect(err).toHaveBeenCalledWith(expect.stringContaining('last answered 500'));
      expect(await main(['not-a-url'])).toBe(2);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
