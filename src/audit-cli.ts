import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { chainHead, verifyChain, type BreakKind, type ChainHead, type VerifyResult } from './store/audit-chain.js';
import { openStore } from './store/open.js';

/** `npm run cli -- audit verify|head`: the audit log's hash chain, for operators. */

const HASH = /^[0-9a-f]{64}$/;
const keptHeadSchema = z.object({ seq: z.number().int().positive().optional(), hash: z.string().regex(HASH) });

const flagValue = (flags: Set<string>, name: string): string | undefined =>
  [...flags].find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);

/** A kept head given as a hash, or as a file written by `audit head --out` (its last line). */
export function parseKeptHead(value: string): { hash: string; seq?: number } | string {
  const v = value.trim().toLowerCase();
  if (HASH.test(v)) return { hash: v };
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch {
    return `--head 应为 64 位十六进制哈希，或由 audit head --out 保存的文件；无法读取文件 ${value}。`;
  }
  const last = text.split(/\r?\n/).filter((l) => l.trim()).pop() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  const parsed = keptHeadSchema.safeParse(json);
  if (!parsed.success) return `文件 ${value} 不是 audit head 保存的链头（应为一行 JSON，含 seq 和 hash）。`;
  return { hash: parsed.data.hash, ...(parsed.data.seq ? { seq: parsed.data.seq } : {}) };
}

const BREAK_TEXT: Record<BreakKind, string> = {
  altered: '内容与其哈希不符，这条记录在写入后被修改过',
  missing_before: '它之前的记录缺失，有记录被删除',
  relinked: '与前一条记录的哈希衔接不上，前一条记录被修改后重新计算过哈希',
};

const describeHead = (h: ChainHead) => `第 ${h.seq} 条，哈希 ${h.hash}，时间 ${h.at}`;

export function describeVerify(r: VerifyResult): { ok: boolean; text: string } {
  if (r.broken) {
    const b = r.broken;
    return {
      ok: false,
      text: `审计记录已被改动！已核对 ${r.checked} 条完整的记录；第一条有问题的是第 ${b.seq} 条（id ${b.id}，时间 ${b.at}，操作 ${b.action}）：${BREAK_TEXT[b.kind]}。`,
    };
  }
  if (r.keptHead && !r.keptHead.found) {
    const k = r.keptHead;
    return {
      ok: false,
      text: `已核对 ${r.checked} 条审计记录，链本身连贯，但保存的链头（${k.seq ? `第 ${k.seq} 条，` : ''}哈希 ${k.hash}）不在链中：此后的记录被删除，或整条链被重写过。`,
    };
  }
  if (!r.head) return { ok: true, text: '审计日志还没有记录。' };
  const kept = r.keptHead ? `保存的链头（哈希 ${r.keptHead.hash}）仍在链中。` : '';
  return { ok: true, text: `已核对 ${r.checked} 条审计记录，审计记录完整。链头：${describeHead(r.head)}。${kept}` };
}

export async function auditVerify(_args: string[], flags: Set<string>): Promise<number> {
  const headFlag = flagValue(flags, 'head');
  const kept = headFlag === undefined ? undefined : parseKeptHead(headFlag);
  if (typeof kept === 'string') {
    console.error(kept);
    return 2;
  }
  const db = await openStore(loadConfig().env);
  try {
    const out = describeVerify(await verifyChain(db, kept));
    (out.ok ? console.log : console.error)(out.text);
    return out.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

export async function auditHead(_args: string[], flags: Set<string>): Promise<number> {
  const db = await openStore(loadConfig().env);
  try {
    const head = await chainHead(db);
    if (!head) {
      console.error('审计日志还没有记录，没有链头可导出。');
      return 1;
    }
    const line = JSON.stringify(head);
    const file = flagValue(flags, 'out');
    if (file) writeFileSync(file, `${line}\n`, { flag: 'a' });
    console.log(line);
    return 0;
  } finally {
    await db.close();
  }
}
