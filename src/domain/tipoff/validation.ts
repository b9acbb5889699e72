import { LIMITS, REGISTERED_SOURCES, SOURCE_LABELS, type Source } from './record.js';

/**
 * What a tip-off must say (宝鸡市口腔医院 监督举报方式 四(一): 时间、地点、科室、人员、具体事项),
 * how the reporter chose to be known, and the acknowledgement of 四(二) (不得捏造、歪曲事实).
 * Every problem is reported at once, in Chinese, so nothing typed is lost to a retry.
 */

export interface TipoffInput {
  occurred: string;
  place: string;
  department: string;
  persons: string;
  matter: string;
  realName: boolean;
}

export const IDENTITY_CHOICES = { real: '实名（纪检监察室可见我的姓名，处理意见私聊回复我）', protected: '身份保密（处理人看不到我是谁，凭查询码查看进展）' } as const;
export const PLEDGE_VALUE = 'yes';
export const PLEDGE_TEXT = '我承诺所反映情况属实，不捏造、歪曲事实，不诬告陷害他人';

const FIELDS: { key: keyof Omit<TipoffInput, 'realName'>; label: string }[] = [
  { key: 'occurred', label: '时间' },
  { key: 'place', label: '地点' },
  { key: 'department', label: '科室' },
  { key: 'persons', label: '人员' },
  { key: 'matter', label: '具体事项' },
];

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function fiveFields(f: Record<string, string | undefined>, errors: string[]): Omit<TipoffInput, 'realName'> {
  const out = {} as Record<string, string>;
  for (const { key, label } of FIELDS) {
    const v = (f[key] ?? '').trim();
    if (!v) errors.push(`请填写“${label}”。`);
    else if (v.length > LIMITS[key]) errors.push(`“${label}”最多 ${LIMITS[key]} 字，现在是 ${v.length} 字。`);
    out[key] = v;
  }
  return out as Omit<TipoffInput, 'realName'>;
}

export function checkTipoff(f: Record<string, string | undefined>): Checked<TipoffInput> {
  const errors: string[] = [];
  const five = fiveFields(f, errors);
  const identity = f.identity;
  if (identity !== 'real' && identity !== 'protected') errors.push('请选择“实名”或“身份保密”。');
  if (f.pledge !== PLEDGE_VALUE) errors.push(`请确认承诺：${PLEDGE_TEXT}。`);
  return errors.length ? { ok: false, errors } : { ok: true, value: { ...five, realName: identity === 'real' } };
}

export type Registered = Omit<TipoffInput, 'realName'> & { source: Exclude<Source, 'bot'>; sourceDetail: string };

export function checkRegistered(f: Record<string, string | undefined>): Checked<Registered> {
  const errors: string[] = [];
  const five = fiveFields(f, errors);
  const source = REGISTERED_SOURCES.find((s) => s === f.source);
  if (!source) errors.push(`请选择来源：${REGISTERED_SOURCES.map((s) => SOURCE_LABELS[s]).join('、')}。`);
  const detail = (f.sourceDetail ?? '').trim();
  if (!detail) errors.push('请填写来源说明（如转办单位和文号、来电时间）。');
  else if (detail.length > LIMITS.sourceDetail) errors.push(`来源说明最多 ${LIMITS.sourceDetail} 字。`);
  return errors.length ? { ok: false, errors } : { ok: true, value: { ...five, source: source!, sourceDetail: detail } };
}
