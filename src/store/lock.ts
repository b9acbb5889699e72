import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * PGlite has one writer: a second process on the same data directory (the CLI beside a running
 * bot) silently corrupts it. A lock file, created exclusively, names the process holding the
 * directory; a lock whose process is gone from this host is stale and taken over.
 */

export const LOCK_FILE = 'qinglian.lock';

export type LockRole = 'bot' | 'cli';

const holderSchema = z.object({ pid: z.number().int().positive(), hostname: z.string(), startedAt: z.string(), role: z.enum(['bot', 'cli']) });
export type LockHolder = z.infer<typeof holderSchema>;

/** The directory is held by a live process; the message says who and what to do. */
export class DataDirBusy extends Error {
  constructor(
    readonly holder: LockHolder,
    readonly lockPath: string,
    readonly role: LockRole,
  ) {
    super(busyMessage(holder, lockPath, role));
    this.name = 'DataDirBusy';
  }
}

function busyMessage(h: LockHolder, lockPath: string, role: LockRole): string {
  const who = h.role === 'bot' ? '正在运行的清廉助手机器人' : '另一个管理命令';
  const where = h.hostname === hostname() ? `进程 ${h.pid}` : `主机 ${h.hostname} 上的进程 ${h.pid}`;
  const head = `数据目录正由${who}（${where}，${h.startedAt} 起）使用。内嵌数据库 PGlite 只允许一个进程写入，同时打开会损坏数据。`;
  const todo =
    h.role === 'bot'
      ? role === 'cli'
        ? '请停止机器人后再运行此命令。'
        : '同一个数据目录只能运行一个机器人；请先停止另一个。'
      : '请等该命令结束后再运行。';
  const stale = `如确认该进程已不存在，可删除锁文件 ${lockPath} 后重试。`;
  return `${head}${todo}${stale}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a holder is certainly gone: same host and its process no longer runs (or is us, from a previous life). */
function stale(h: LockHolder | undefined): boolean {
  if (!h) return true;
  if (h.hostname !== hostname()) return false;
  return h.pid === process.pid ? true : !alive(h.pid);
}

export interface DataDirLock {
  path: string;
  release(): void;
}

/**
 * Takes the lock on `dir` for this process, or throws DataDirBusy naming the live holder.
 * `onTakeover` hears of a stale lock replaced, so the operator can see a crash was recovered.
 */
export function lockDataDir(dir: string, role: LockRole, onTakeover?: (previous: LockHolder | undefined) => void): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), role };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(path);
      if (!stale(holder) || attempt > 0) {
        if (holder) throw new DataDirBusy(holder, path, role);
        throw new Error(`could not take the lock ${path}: another process is taking it at the same time`);
      }
      onTakeover?.(holder);
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      // Only our own lock: a takeover by someone else after a long pause must not be undone.
      if (readHolder(path)?.pid === process.pid && readHolder(path)?.startedAt === me.startedAt) unlinkSync(path);
    },
  };
}
