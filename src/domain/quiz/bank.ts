import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendAudit } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import { currentQuestions, getMeta, setMeta, upsertQuestions, type UpsertSummary } from '../../store/quiz.js';
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

export async function exportQuestionFile(db: Db, name: string): Promise<{ data: Buffer; count: number }> {
  await ensureDefaultBank(db);
  const questions = await currentQuestions(db);
  return { data: await writeQuestionFile(name, questions), count: questions.length };
}

export function describeImport(s: ImportSummary): string {
  const head = s.dryRun ? '试运行（没有写入）：' : '导入完成：';
  return `${head}文件中共 ${s.total} 道题，新增 ${s.added.length} 道，更新 ${s.updated.length} 道（旧版本保留给已答过的考试），未变化 ${s.unchanged} 道。`;
}
