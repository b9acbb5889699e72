import type { Settings } from '../config.js';
import * as declarationExport from '../domain/declaration/export.js';
import * as declarationWorkflow from '../domain/declaration/workflow.js';
import * as progress from '../domain/progress.js';
import { progressWorkbook } from '../domain/progress-export.js';
import { QuizService } from '../domain/quiz/service.js';
import * as report from '../domain/report.js';
import * as study from '../domain/study.js';
import * as audit from './audit.js';
import * as campaigns from './campaigns.js';
import type { Db } from './db.js';
import * as declarations from './declarations.js';
import * as files from './files.js';
import * as quiz from './quiz.js';
import * as staff from './staff.js';
import * as notices from './notices.js';
import * as rectificationStore from './rectification.js';
import * as tipoffStore from './tipoffs.js';
import * as rectificationWorkflow from '../domain/rectification/workflow.js';
import { ledgerTotals } from '../domain/rectification/progress.js';
import * as tipoffWorkflow from '../domain/tipoff/workflow.js';
import { exportTipoffs } from '../domain/tipoff/export.js';

/**
 * What handlers reach the database through: one repository per feature, built once from the
 * Db, so a handler writes `bot.repos.staff.getStaff(id)` and never holds the Db itself. A
 * repository is a feature's data module (`src/store/<feature>.ts`, or the domain steps that
 * run their own transaction) with its first argument already given; SQL stays in those
 * modules. Inside a transaction, call the module's functions with the `tx` as before.
 *
 * A new feature adds one line below (`tipoffs: bound(db, tipoffs)`, with
 * `import * as tipoffs from './tipoffs.js'`), and its handler calls `bot.repos.tipoffs.x(…)`
 * where it called `x(bot.db, …)`.
 */

type Fn = (...args: never[]) => unknown;

/** M's functions that take D first, with D already given; everything else in M is left out. */
export type Bound<D, M> = {
  [K in keyof M as M[K] extends (first: D, ...rest: never[]) => unknown ? (M[K] extends abstract new (...a: never[]) => unknown ? never : K) : never]: M[K] extends (first: D, ...rest: infer A) => infer R ? (...rest: A) => R : never;
};

const isClass = (f: Fn): boolean => /^class[\s{]/.test(Function.prototype.toString.call(f));

/**
 * Gives `first` to each function of a module. Only the functions whose first parameter takes
 * it are in the type, so a helper that takes something else (a plan, a file) cannot be called
 * through the repository by mistake.
 */
export function bound<D, M extends object>(first: D, module: M): Bound<D, M> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(module)) {
    if (typeof f !== 'function' || isClass(f as Fn)) continue;
    out[name] = (...rest: unknown[]) => (f as (...a: unknown[]) => unknown)(first, ...rest);
  }
  return out as Bound<D, M>;
}

export function createRepositories(db: Db, opts: { settings: Settings; timeZone: string }) {
  const progressDeps: progress.ProgressDeps = { db, settings: opts.settings, timeZone: opts.timeZone };
  return {
    staff: bound(db, staff),
    declarations: { ...bound(db, declarations), ...bound(db, declarationWorkflow), ...bound(db, declarationExport) },
    study: bound(db, study),
    report: bound(db, report),
    // The figures take the settings and zone too; the person's own counts only the Db.
    progress: { ...bound(progressDeps, { ...pickDepsTaking(progress), progressWorkbook }), ...bound(db, { ownDeclarationCounts: progress.ownDeclarationCounts }) },
    quiz: bound(db, quiz),
    /** The quiz's domain service: it caches question versions, so there is one per bot. */
    quizService: new QuizService(db, opts.settings.quiz, { timeZone: opts.timeZone }),
    campaigns: bound(db, campaigns),
    files: bound(db, files),
    audit: bound(db, audit),
    tipoffs: { ...bound(db, tipoffStore), ...bound(db, tipoffWorkflow), ...bound(db, { exportTipoffs }) },
    notices: bound(db, notices),
    rectification: { ...bound(db, rectificationStore), ...bound(db, rectificationWorkflow), ...bound(db, { ledgerTotals }) },
  };
}

/** progress.ts mixes both kinds of first argument: only those taking its deps are bound to them. */
function pickDepsTaking(m: typeof progress) {
  const { studyByDepartment, studyPeople, examByDepartment, examPeople, reportsByDepartment, declarationsByDepartment, overview } = m;
  return { studyByDepartment, studyPeople, examByDepartment, examPeople, reportsByDepartment, declarationsByDepartment, overview };
}

export type Repositories = ReturnType<typeof createRepositories>;
