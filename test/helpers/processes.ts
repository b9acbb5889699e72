import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

/**
 * A redis-server of a test's own, without persistence, for tests that make Redis lose its
 * data or go away: the machine's Redis is shared and must never be flushed or stopped.
 */
export class PrivateRedis {
  private proc?: ChildProcess;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<this> {
    // A second server on the same port would exit at once and orphan the first.
    if (this.running) return this;
    if (!this.port) this.port = await freePort();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(this.port, '127.0.0.1', { retryStrategy: (n) => (n > 100 ? null : 50) });
    probe.on('error', () => {}); // refused until the server listens; the retry strategy waits
    await probe.ping();
    probe.disconnect();
    return this;
  }

  /** A client for the test itself. */
  client(): Redis {
    const r = new Redis(this.port, '127.0.0.1');
    r.on('error', () => {});
    return r;
  }

  /** Kills the server at once, as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** The child's exit code; a child still running after `ms` is killed, so a failing test leaves nothing behind. */
export function exitCode(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
