import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { BOOT_ASSETS_DIR } from '../../../lib/constructs/app-instance-boot';

/**
 * The health-check placeholder (orcha-placeholder.service) run for real with python3: the load
 * balancer's health checker gets 200 on the health path, so a new environment's instance is
 * not replaced in a loop before the first deployment; anyone else (the smoke test) gets 503.
 */

let server: ChildProcess;
let port: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address() as net.AddressInfo;
      s.close(() => resolve(address.port));
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  port = await freePort();
  server = spawn('python3', [path.join(BOOT_ASSETS_DIR, 'placeholder.py'), String(port), '/health'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('placeholder did not start');
});
afterAll(() => {
  server.kill();
});

const get = async (p: string, userAgent: string) =>
  (await fetch(`http://127.0.0.1:${port}${p}`, { headers: { 'user-agent': userAgent } })).status;

test('the ALB health checker gets 200 on the health path', async () => {
  expect(await get('/health', 'ELB-HealthChecker/2.0')).toBe(200);
});

test('anyone else gets 503, the pipeline smoke test included; other paths are never healthy', async () => {
  expect(await get('/health', 'orcha-pipeline-smoke-test')).toBe(503);
  expect(await get('/health', 'Mozilla/5.0')).toBe(503);
  expect(await get('/', 'ELB-HealthChecker/2.0')).toBe(503);
  expect(await get('/healthz', 'ELB-HealthChecker/2.0')).toBe(503);
});
