import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendAudit } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import { UserError } from '../../errors.js';
import { currentQuestions, getMeta, retiredQuestionIds, setMeta, setRetired, upsertQuestions, type UpsertSummary } from '../../store/quiz.js';
import type { Question } from './question.js';
import { parseQuestionFile, parseQuestionJson, writeQuestionFile } from './transfer.js';

/**
 * The question bank as a whole: the shipped default bank (loaded once, on first start), and
 * imports and exports by administrators. An import goes through the same validation as the
 * default bank and is all or nothing.
 */
export const DEFAULT_BANK_PATH = join(dirname(fileURLToPath(import.meta.url)), 'default-bank.json');
const DEFAULT_BANK_KEY = 'default_bank_loaded';

/** The shipped bank, validated; a problem here is a bug in the release, so it throws. */
export function loadDefaultBank(path = DEFAULT_BANK_PATH): Question[] {
  return parseQuestionJson(readFileSync(path, 'utf8')).map((p) => p.question);
}

/**
 * Loads the default bank the first time a database is used, and never again: questions an
 * administrator later changes or replaces are not overwritten by a restart.
 */
export async function ensureDefaultBank(db: Db, bank: () => Question[] = loadDefaultBank): Promise<UpsertSummary | undefined> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qinglian.quiz.default_bank.${db.schema}`]);
    if (await getMeta(tx, DEFAULT_BANK_KEY)) return undefined;
    const questions = bank();
    const summary = await upsertQuestions(tx, questions);
    await setMeta(tx, DEFAULT_BANK_KEY, String(questions.length));
    await appendAudit(tx, { actor: 'system', action: 'quiz.default_bank_loaded', entityType: 'quiz_bank', detail: { added: summary.added.length, updated: summary.updated.length } });
    return summary;
  });
}

export interface ImportSummary extends UpsertSummary {
  total: number;
  dryRun: boolean;
}

/** Imports a JSON, CSV or XLSX file; throws QuestionImportError listing every problem. */
export async function importQuestionFile(db: Db, name: string, data: Buffer, opts: { dryRun?: boolean; actor?: string } = {}): Promise<ImportSummary> {
  const parsed = await parseQuestionFile(name, data);
  // The default bank first, so importing into a fresh database does not later get the
  // default bank loaded on top of the administrator's own questions.
  await ensureDefaultBank(db);
  const questions = parsed.map((p) => p.question);
  const dryRun = Boolean(opts.dryRun);
  const run = async () =>
    db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qinglian.quiz.import.${db.schema}`]);
      const summary = await upsertQuestions(tx, questions);
      if (dryRun) throw new DryRun(summary);
      await appendAudit(tx, {
        actor: opts.actor ?? 'cli',
        action: 'quiz.questions_imported',
        entityType: 'quiz_bank',
        detail: { file: name.split(/[\\/]/).pop(), added: summary.added.length, updated: summary.updated.length, unchanged: summary.unchanged },
      });
      return summary;
    });
  try {
    return { ...(await run()), total: questions.length, dryRun };
  } catch (e) {
    if (e instanceof DryRun) return { ...e.summary, total: questions.length, dryRun };
    throw e;
  }
}

/** Rolling back is how a dry run shows exactly what a real import would do. */
class DryRun extends Error {
  constructor(readonly summary: UpsertSummary) {
    super('dry run');
  }
}

/** Exports the questions in use; retired ones stay out, so a round trip cannot revive them. */
export async function exportQuestionFile(db: Db, name: string): Promise<{ data: Buffer; count: number; retired: number }> {
  await ensureDefaultBank(db);
  const questions = await currentQuestions(db);
  return { data: await writeQuestionFile(name, questions), count: questions.length, retired: (await retiredQuestionIds(db)).length };
}

export interface RetireSummary {
  retire: boolean;
  changed: string[];
  /** Asked for but already in that state. */
  already: string[];
  active: number;
}

/**
 * Retires (or restores) questions by id: a retired question is no longer drawn, and every past
 * attempt keeps the version it showed. All or nothing: one unknown id changes nothing.
 */
export async function retireQuestions(db: Db, ids: string[], opts: { restore?: boolean; actor?: string } = {}): Promise<RetireSummary> {
  const wanted = [...new Set(ids.map((x) => x.trim()).filter(Boolean))];
  if (wanted.length === 0) throw new UserError('请写出要停用（或恢复）的题号，例如：questions retire Q0001 Q0002');
  await ensureDefaultBank(db);
  const retire = !opts.restore;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qinglian.quiz.import.${db.schema}`]);
    const { changed, unknown } = await setRetired(tx, wanted, retire);
    if (unknown.length > 0) throw new UserError(`题库中没有这些题号：${unknown.join('、')}。没有做任何改动。`);
    const active = (await currentQuestions(tx)).length;
    if (retire && active === 0) throw new UserError('停用后题库中将没有可用的题目，考试将无法进行。没有做任何改动。');
    if (changed.length > 0) {
      await appendAudit(tx, { actor: opts.actor ?? 'cli', action: retire ? 'quiz.questions_retired' : 'quiz.questions_restored', entityType: 'quiz_bank', detail: { ids: changed } });
    }
    return { retire, changed, already: wanted.filter((id) => !changed.includes(id)), active };
  });
}

export function describeRetire(s: RetireSummary): string {
  const verb = s.retire ? '停用' : '恢复';
  const parts = [s.changed.length ? `已${verb} ${s.changed.length} 道题：${s.changed.join('、')}。` : `没有需要${verb}的题目。`];
  if (s.already.length) parts.push(`${s.already.join('、')} 原本就是${s.retire ? '停用' : '在用'}状态。`);
  parts.push(`题库现有在用题目 ${s.active} 道${s.retire ? '；已答过这些题的成绩和错题记录保持不变' : ''}。`);
  return parts.join('');
}

export function describeImport(s: ImportSummary): string {
  const head = s.dryRun ? '试运行（没有写入）：' : '导入完成：';
  return `${head}文件中共 ${s.total} 道题，新增 ${s.added.length} 道，更新 ${s.updated.length} 道（旧版本保留给已答过的考试），未变化 ${s.unchanged} 道。`;
}
