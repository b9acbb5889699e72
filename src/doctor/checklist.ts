/**
 * The result of a `doctor` run: one line per check, each failure with where to fix it.
 * Shared by the DingTalk and Feishu doctors so both read the same way.
 */
export interface Check {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  detail: string;
  /** What to do, and where in the developer console. */
  fix?: string;
}

const MARK = { ok: '✔', fail: '✘', skip: '–' } as const;

export function formatChecklist(title: string, checks: Check[]): string {
  const lines = [title, ''];
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.name}：${c.detail}`);
    if (c.fix && c.status === 'fail') lines.push(`    → ${c.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  lines.push('', failed ? `结论：有 ${failed} 项需要处理，处理后请再运行一次本检查。` : '结论：全部通过，可以正常使用。');
  return lines.join('\n');
}

export const failedCount = (checks: Check[]): number => checks.filter((c) => c.status === 'fail').length;
