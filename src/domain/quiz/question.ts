/**
 * A question of the bank and the bank's own validation. Every importer (JSON, CSV, XLSX) and
 * the shipped default bank go through `questionProblems`, so one set of rules decides what
 * a usable question is.
 */
export const QUESTION_TYPES = ['single', 'multiple', 'judge'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export const TYPE_NAMES: Record<QuestionType, string> = { single: '单选题', multiple: '多选题', judge: '判断题' };

export interface Question {
  id: string;
  type: QuestionType;
  /** 1..9: the rule of the 九项准则 it tests; null: a related document (see `source`). */
  rule: number | null;
  topic: string;
  stem: string;
  options: string[];
  /** Zero-based indexes into `options`, ascending. */
  answer: number[];
  explanation: string;
  /** The rule or document the explanation rests on. */
  source: string;
}

/** A question as stored: the version is bumped whenever an import changes its content. */
export interface QuestionVersion extends Question {
  version: number;
}

export const MAX_OPTIONS = 6;
export const OPTION_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'];
export const JUDGE_OPTIONS = ['正确', '错误'];
export const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export interface FieldProblem {
  field: keyof Question | '';
  reason: string;
}

const LIMITS = { topic: 30, stem: 500, option: 200, explanation: 1000, source: 300 };

/**
 * Everything wrong with one question, in field order; empty when it is usable. Accepts
 * unknown input so it can check raw JSON as well as parsed rows.
 */
export function questionProblems(raw: unknown): FieldProblem[] {
  const p: FieldProblem[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [{ field: '', reason: '每道题应是一个对象（{ "id": …, "type": …, … }）' }];
  const q = raw as Record<string, unknown>;
  const str = (k: keyof Question, label: string, max: number): string | undefined => {
    const v = q[k];
    if (typeof v !== 'string' || v.trim() === '') {
      p.push({ field: k, reason: `${label}不能为空` });
      return undefined;
    }
    if (v.length > max) p.push({ field: k, reason: `${label}过长（${v.length} 字，最多 ${max} 字）` });
    return v;
  };

  if (typeof q.id !== 'string' || !ID_PATTERN.test(q.id)) {
    p.push({ field: 'id', reason: `题号 ${JSON.stringify(q.id ?? '')} 无效：应以字母开头，只含字母、数字、下划线和短横线，最长 32 位（例如 Q0001）` });
  }
  const type = q.type;
  if (typeof type !== 'string' || !(QUESTION_TYPES as readonly string[]).includes(type)) {
    p.push({ field: 'type', reason: `题型 ${JSON.stringify(type ?? '')} 无效：应为 single（单选）、multiple（多选）或 judge（判断）` });
  }
  if (!(q.rule === null || (typeof q.rule === 'number' && Number.isInteger(q.rule) && q.rule >= 1 && q.rule <= 9))) {
    p.push({ field: 'rule', reason: `准则条目 ${JSON.stringify(q.rule ?? '')} 无效：应为 1 到 9（九项准则的第几条），与九项准则无直接对应时留空` });
  }
  str('topic', '主题', LIMITS.topic);
  str('stem', '题干', LIMITS.stem);

  const options = q.options;
  let optionCount = 0;
  if (!Array.isArray(options)) p.push({ field: 'options', reason: '选项应是一个列表' });
  else {
    optionCount = options.length;
    if (type === 'judge') {
      if (options.length !== 2 || options[0] !== JUDGE_OPTIONS[0] || options[1] !== JUDGE_OPTIONS[1]) {
        p.push({ field: 'options', reason: '判断题的选项必须依次是“正确”“错误”' });
      }
    } else if (options.length < 2 || options.length > MAX_OPTIONS) {
      p.push({ field: 'options', reason: `选择题应有 2 到 ${MAX_OPTIONS} 个选项，现有 ${options.length} 个` });
    }
    const seen = new Set<string>();
    options.forEach((o, i) => {
      const letter = OPTION_LETTERS[i] ?? String(i + 1);
      if (typeof o !== 'string' || o.trim() === '') p.push({ field: 'options', reason: `选项 ${letter} 不能为空` });
      else if (o.length > LIMITS.option) p.push({ field: 'options', reason: `选项 ${letter} 过长（最多 ${LIMITS.option} 字）` });
      else if (seen.has(o.trim())) p.push({ field: 'options', reason: `选项 ${letter} 与前面的选项重复` });
      else seen.add(o.trim());
    });
  }

  const answer = q.answer;
  if (!Array.isArray(answer) || answer.length === 0 || !answer.every((a) => typeof a === 'number' && Number.isInteger(a))) {
    p.push({ field: 'answer', reason: '答案不能为空：应是正确选项的序号列表（如 [1] 表示 B）' });
  } else {
    const nums = answer as number[];
    const bad = nums.filter((a) => a < 0 || a >= optionCount);
    if (bad.length > 0 && optionCount > 0) p.push({ field: 'answer', reason: `答案 ${bad.map((a) => OPTION_LETTERS[a] ?? String(a)).join('、')} 超出了选项范围（共 ${optionCount} 个选项）` });
    if (new Set(nums).size !== nums.length) p.push({ field: 'answer', reason: '答案中有重复的选项' });
    if ((type === 'single' || type === 'judge') && nums.length !== 1) p.push({ field: 'answer', reason: `${type === 'single' ? '单选题' : '判断题'}只能有一个正确答案，现有 ${nums.length} 个` });
    if (type === 'multiple' && nums.length < 2) p.push({ field: 'answer', reason: '多选题至少有两个正确答案；只有一个正确答案时请改为单选题' });
    if (type === 'multiple' && optionCount > 0 && nums.length >= optionCount) p.push({ field: 'answer', reason: '多选题不能所有选项都正确，请至少保留一个错误选项' });
  }
  str('explanation', '解析', LIMITS.explanation);
  const source = str('source', '出处', LIMITS.source);
  if (source !== undefined && !citesSomething(source)) {
    p.push({ field: 'source', reason: `出处“${source}”没有指明依据：请写明准则条目或文件名称，例如“《医疗机构工作人员廉洁从业九项准则》第一条”或“××医院××工作方案（2023）”` });
  }
  return p;
}

/** A citation names a document: 《…》, or a title ending like one (…方案, …准则, …条例, …办法 …). */
export function citesSomething(source: string): boolean {
  const s = source.trim();
  if (s.length < 4) return false;
  return /《[^》]+》/.test(s) || /(准则|条例|办法|方案|规定|法|通知|意见|清单|制度|细则|解读|方式)/.test(s);
}

/** Field-level checks plus what only a whole bank can tell: duplicate ids. */
export function bankProblems(questions: unknown[]): { index: number; id: string; problems: FieldProblem[] }[] {
  const out: { index: number; id: string; problems: FieldProblem[] }[] = [];
  const firstIndex = new Map<string, number>();
  questions.forEach((q, index) => {
    const problems = questionProblems(q);
    const id = typeof (q as { id?: unknown })?.id === 'string' ? ((q as { id: string }).id) : '';
    if (id) {
      const prev = firstIndex.get(id);
      if (prev !== undefined) problems.push({ field: 'id', reason: `题号 ${id} 重复（第 ${prev + 1} 题已使用）` });
      else firstIndex.set(id, index);
    }
    if (problems.length > 0) out.push({ index, id, problems });
  });
  return out;
}

/** Canonical form: trimmed text, sorted answer; what versioning compares. */
export function normaliseQuestion(q: Question): Question {
  return {
    id: q.id.trim(),
    type: q.type,
    rule: q.rule,
    topic: q.topic.trim(),
    stem: q.stem.trim(),
    options: q.options.map((o) => o.trim()),
    answer: [...q.answer].sort((a, b) => a - b),
    explanation: q.explanation.trim(),
    source: q.source.trim(),
  };
}

export function sameContent(a: Question, b: Question): boolean {
  const x = normaliseQuestion(a);
  const y = normaliseQuestion(b);
  return JSON.stringify({ ...x, id: '' }) === JSON.stringify({ ...y, id: '' });
}

export const letters = (indexes: number[]): string => indexes.map((i) => OPTION_LETTERS[i] ?? '?').join('');
