import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts child.ts (a bot process that triggers one push through the recording platform) and
 * resolves `ready` with what its trigger did, once the push is queued.
 */
export function startBotChild(env: Record<string, string>): { child: ChildProcess; ready: Promise<{ added: number; created: boolean }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'child.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<{ added: number; created: boolean }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) resolve(JSON.parse(line) as { added: number; created: boolean });
    });
    child.on('exit', (code, signal) => reject(new Error(`bot process exited early: ${code ?? signal}`)));
  });
  return { child, ready };
}
