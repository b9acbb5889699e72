import { actions, button, card, divider, fields, markdown, note, table, text } from './builders.js';
import { escapeMarkdown } from './markdown.js';
import type { Card, CardElement } from './model.js';
import { chineseDay, chineseTime, examWindow, type Exam } from '../src/domain/quiz/exams.js';
import { OPTION_LETTERS, TYPE_NAMES, type QuestionVersion } from '../src/domain/quiz/question.js';
import { ruleGroup, ruleLabel } from '../src/domain/quiz/rules.js';
import type { AttemptView, DepartmentProgress } from '../src/domain/quiz/service.js';

/**
 * The quiz's cards. Question buttons carry only {t: attempt id, q: question index, o: shown
 * option position}: the shuffle and the answer stay on the server.
 */

export const WRONG_PAGE_SIZE = 3;

const shownLetters = (positions: number[]): string => positions.map((p) => OPTION_LETTERS[p]).join('');

function optionLines(q: QuestionVersion, order: number[], mark: (shown: number, original: number) => string): string {
  return order.map((original, shown) => `${mark(shown, original)}${OPTION_LETTERS[shown]}. ${q.options[original]}`).join('\n');
}

function heading(view: AttemptView, idx: number): string {
  return `${view.title} · 第 ${idx + 1}/${view.attempt.questionCount} 题`;
}

const stem = (q: QuestionVersion): CardElement => markdown(`**【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`);

/** The question as the person sees it: no answer, no explanation, shown order only. */
export function questionCard(view: AttemptView, idx: number, timeZone: string, extra: CardElement[] = []): Card {
  const { attempt } = view;
  const q = view.questions[idx];
  const item = attempt.items[idx];
  const base = { t: attempt.id, q: idx };
  const ticked = new Set(item.pending);
  const buttons =
    q.type === 'multiple'
      ? [
          ...item.optionOrder.map((_, shown) =>
            button(`${ticked.has(shown) ? '☑' : '☐'} ${OPTION_LETTERS[shown]}`, 'quiz.tick', { ...base, o: shown, s: ticked.has(shown) ? 0 : 1 }),
          ),
          button('提交答案', 'quiz.submit', base, { style: 'primary' }),
        ]
      : item.optionOrder.map((original, shown) => button(q.type === 'judge' ? q.options[original] : OPTION_LETTERS[shown], 'quiz.answer', { ...base, o: shown }));
  return card(
    heading(view, idx),
    [
      stem(q),
      q.type !== 'judge' && text(optionLines(q, item.optionOrder, (shown) => (q.type === 'multiple' ? (ticked.has(shown) ? '☑ ' : '☐ ') : ''))),
      actions(...buttons),
      note(
        `${q.type === 'multiple' ? `多选题：点选全部正确选项后点“提交答案”，全部选对才得分${ticked.size ? `（已选 ${shownLetters([...ticked].sort())}）` : ''}。` : '点击按钮作答。'}也可回复“答 ${q.type === 'judge' ? '对' : q.type === 'multiple' ? 'AC' : 'B'}”作答。请在 ${chineseTime(attempt.expiresAt, timeZone)} 前完成。`,
      ),
      ...extra,
    ],
    'blue',
  );
}

/** The first question of a new attempt, with its terms and the month's exams still open to the person. */
export function startedQuestionCard(view: AttemptView, openExams: Exam[], timeZone: string): Card {
  return questionCard(view, view.attempt.currentIndex, timeZone, [
    note(`共 ${view.attempt.questionCount} 题，及格线 ${view.attempt.passMark} 分，限时至 ${chineseTime(view.attempt.expiresAt, timeZone)}。选项顺序每次随机。`),
    ...openExams.map((e) => note(`另有“${e.title}”待参加（${chineseDay(e.dueOn)}截止）：发送“考试 ${e.id}”。`)),
  ]);
}

/** The question an unfinished attempt stopped at; `otherRequested`: the person asked for another exam. */
export function resumedQuestionCard(view: AttemptView, otherRequested: boolean, timeZone: string): Card {
  const idx = view.attempt.currentIndex;
  return questionCard(view, idx, timeZone, [
    note(`您有一场未完成的“${view.title}”，已答 ${idx} 题，请从第 ${idx + 1} 题继续。${otherRequested ? '完成它（或发送“考试 交卷”）后才能开始新的考试。' : ''}`),
  ]);
}

/** The same question after the answer: right or wrong, the correct options, the reason. */
export function answeredCard(view: AttemptView, idx: number): Card {
  const q = view.questions[idx];
  const item = view.attempt.items[idx];
  const selected = new Set(item.selected ?? []);
  const right = new Set(q.answer);
  const correct = item.correct === true;
  const shownRight = item.optionOrder.map((o, s) => (right.has(o) ? s : -1)).filter((s) => s >= 0);
  const shownChosen = item.optionOrder.map((o, s) => (selected.has(o) ? s : -1)).filter((s) => s >= 0);
  return card(
    `${heading(view, idx)} · ${correct ? '回答正确' : '回答错误'}`,
    [
      stem(q),
      text(optionLines(q, item.optionOrder, (_s, o) => (right.has(o) ? '✅ ' : selected.has(o) ? '❌ ' : '▫️ '))),
      fields([
        ['正确答案', q.type === 'judge' ? q.options[q.answer[0]] : shownLetters(shownRight)],
        ['您的答案', shownChosen.length ? (q.type === 'judge' ? q.options[item.optionOrder[shownChosen[0]]] : shownLetters(shownChosen)) : '未作答'],
      ]),
      markdown(`**解析**：${escapeMarkdown(q.explanation)}`),
      note(`出处：${q.source}（${ruleLabel(q.rule, q.topic)}）`),
    ],
    correct ? 'green' : 'red',
  );
}

/** A question card whose time ran out before it was answered. */
export function timedOutCard(view: AttemptView, idx: number): Card {
  return card(`${heading(view, idx)} · 已超时`, [stem(view.questions[idx]), note('答题时间已到，本题未作答。')], 'grey');
}

/** Rules behind the wrong answers, in the order they were met. */
function rulesToRevisit(view: AttemptView): string[] {
  const seen = new Map<string, string>();
  view.attempt.items.forEach((item, i) => {
    if (item.correct === true) return;
    const q = view.questions[i];
    const key = ruleGroup(q.rule, q.topic);
    if (!seen.has(key)) seen.set(key, ruleLabel(q.rule, q.topic));
  });
  return [...seen.values()];
}

/** The result of a finished attempt; `attemptsLeft` only when it failed. */
export function scoreCard(view: AttemptView, attemptsLeft?: number): Card {
  const a = view.attempt;
  const ok = a.passed === true;
  const minutes = a.finishedAt ? Math.max(1, Math.round((a.finishedAt.getTime() - a.startedAt.getTime()) / 60_000)) : undefined;
  const revisit = rulesToRevisit(view);
  return card(
    `${view.title} · ${a.score ?? 0} 分 · ${ok ? '通过' : '未通过'}`,
    [
      fields([
        ['得分', `${a.score ?? 0} 分`],
        ['答对', `${a.correctCount ?? 0} / ${a.questionCount} 题`],
        ['及格线', `${a.passMark} 分`],
        ['状态', a.state === 'expired' ? '答题时间已到，按已作答的题目计分' : '已完成'],
        ...(minutes ? [['用时', `约 ${minutes} 分钟`] as [string, string]] : []),
      ]),
      ok && revisit.length === 0 && markdown('全部答对，您对廉洁从业的要求掌握得很扎实！'),
      revisit.length > 0 && markdown(`**建议复习**\n${revisit.map((r) => `- ${escapeMarkdown(r)}`).join('\n')}`),
      !ok && attemptsLeft !== undefined && attemptsLeft > 0 && note(`这场考试您还可以再参加 ${attemptsLeft} 次：发送“考试 ${a.examId}”。`),
      note('发送“错题”回顾答错的题目和解析；发送“成绩”查看历次成绩。'),
    ],
    ok ? 'green' : 'red',
  );
}

/** The invitation a monthly exam push sends, or the reminder before its due date. */
export function examInviteCard(exam: Exam, reminder = false): Card {
  const n = Array.isArray(exam.questions) ? exam.questions.length : exam.questions;
  return card(
    reminder ? `提醒：${exam.title}将于${chineseDay(exam.dueOn)}截止` : `请参加：${exam.title}`,
    [
      fields([
        ['题量', `${n} 题`],
        ['开放时间', `${chineseDay(exam.opensOn)} 至 ${chineseDay(exam.dueOn)}`],
        ['可参加次数', `${exam.attemptsAllowed} 次`],
      ]),
      markdown(`点“开始答题”或发送 **考试 ${escapeMarkdown(exam.id)}** 开始答题，每题作答后即可看到解析。`),
      actions(button('开始答题', 'quiz.begin', { e: exam.id }, { style: 'primary' })),
      reminder && note('您还没有完成这场考试，请在截止前参加。'),
    ],
    reminder ? 'orange' : 'blue',
  );
}

/** `考试 交卷` with questions left: handing in is final, so it is asked once more. */
export function handInConfirmCard(view: AttemptView, unanswered: number): Card {
  const total = view.attempt.items.length;
  return card(
    `确认交卷：${view.title}`,
    [
      markdown(`您还有 **${unanswered} 题**（共 ${total} 题）没有作答。交卷后不能再作答，未作答的题按答错计分。`),
      actions(
        button('确认交卷', 'quiz.handin', { t: view.attempt.id }, { style: 'danger' }),
        button('继续答题', 'quiz.resume', { t: view.attempt.id }, { style: 'primary' }),
      ),
      note('也可以发送“考试 交卷 确认”交卷，或发送“考试”回到当前题目。'),
    ],
    'orange',
  );
}

export interface WrongAnswer {
  question: QuestionVersion;
  selected: number[] | null;
}

/** One page of the person's wrong answers (non-empty), options in the bank's own order. */
export function wrongAnswersCard(wrong: WrongAnswer[], page: number): Card {
  const pages = Math.ceil(wrong.length / WRONG_PAGE_SIZE);
  const p = Math.min(page, pages - 1);
  const slice = wrong.slice(p * WRONG_PAGE_SIZE, (p + 1) * WRONG_PAGE_SIZE);
  const elements: CardElement[] = [];
  slice.forEach((w, i) => {
    const q = w.question;
    const chosen = w.selected ?? [];
    if (i > 0) elements.push(divider());
    elements.push(markdown(`**${p * WRONG_PAGE_SIZE + i + 1}.【${TYPE_NAMES[q.type]}】**${escapeMarkdown(q.stem)}`));
    elements.push(text(q.options.map((o, k) => `${q.answer.includes(k) ? '✅ ' : chosen.includes(k) ? '❌ ' : '▫️ '}${OPTION_LETTERS[k]}. ${o}`).join('\n')));
    elements.push(fields([['您当时的答案', chosen.length ? chosen.map((k) => OPTION_LETTERS[k]).join('') : '未作答'], ['正确答案', q.answer.map((k) => OPTION_LETTERS[k]).join('')]]));
    elements.push(markdown(`**解析**：${escapeMarkdown(q.explanation)}`));
    elements.push(note(`出处：${q.source}（${ruleLabel(q.rule, q.topic)}）`));
  });
  const nav = [
    ...(p > 0 ? [button('上一页', 'quiz.wrong', { p: p - 1 })] : []),
    ...(p + 1 < pages ? [button('下一页', 'quiz.wrong', { p: p + 1 }, { style: 'primary' })] : []),
  ];
  return card(`错题回顾 · 第 ${p + 1}/${pages} 页（共 ${wrong.length} 题）`, [...elements, nav.length > 0 && actions(...nav), note('选项按题库原顺序列出。')], 'orange');
}

/** One attempt in `成绩`'s latest list. */
export interface ScoreRow {
  title: string;
  startedAt: Date;
  state: 'active' | 'finished' | 'expired';
  score: number | null;
  passed: boolean | null;
}
/** One exam's best result; `allowed`: the attempts the exam allows, when it is a configured exam. */
export interface BestRow {
  title: string;
  best: number;
  attempts: number;
  passed: boolean;
  allowed?: number;
}

/** `成绩`: the best score per exam, the latest attempts, and the open exams not yet taken. */
export function myScoresCard(attempts: ScoreRow[], best: BestRow[], openExams: Exam[], timeZone: string): Card {
  const pending = openExams.map((e) => note(`“${e.title}”待参加（${chineseDay(e.dueOn)}截止）：发送“考试 ${e.id}”。`));
  if (attempts.length === 0) return card('我的成绩', [text('您还没有参加过测验。发送“考试”开始第一次测验。'), ...pending], 'blue');
  const resultText = (s: string, score: number | null, ok: boolean | null) => (s === 'active' ? '进行中' : `${score ?? 0} 分 · ${ok ? '通过' : '未通过'}${s === 'expired' ? '（超时）' : ''}`);
  return card(
    '我的成绩',
    [
      markdown('**每场考试的最好成绩**'),
      table(
        ['考试', '最好成绩', '次数', '结果'],
        best.map((b) => [b.title, `${b.best} 分`, b.allowed ? `${b.attempts}/${b.allowed}` : String(b.attempts), b.passed ? '通过' : '未通过']),
      ),
      markdown('**最近的测验**'),
      table(['开始时间', '考试', '成绩'], attempts.map((a) => [chineseTime(a.startedAt, timeZone), a.title, resultText(a.state, a.score, a.passed)])),
      ...pending,
    ],
    'blue',
  );
}

/** `考试情况` without an id: every configured exam and whether it is open now. */
export function examListCard(exams: Exam[], now: Date, timeZone: string): Card {
  const state = { upcoming: '未开始', open: '进行中', closed: '已截止' } as const;
  return card('月度考试', [
    table(['编号', '名称', '时间', '状态'], exams.map((e) => [e.id, e.title, `${chineseDay(e.opensOn)}–${chineseDay(e.dueOn)}`, state[examWindow(e, now, timeZone)]])),
    note('发送“考试情况 编号”查看某场考试各科室的情况。'),
  ]);
}

/** `考试情况 编号`: counts per department, no names. */
export function examProgressCard(exam: Exam, departments: DepartmentProgress[], people: { result?: { passed: boolean | null } }[]): Card {
  const took = people.filter((p) => p.result).length;
  const pct = (a: number, b: number) => (b === 0 ? '—' : `${Math.round((100 * a) / b)}%`);
  return card(`${exam.title} · 参加情况`, [
    fields([
      ['应参加', `${people.length} 人`],
      ['已参加', `${took} 人（${pct(took, people.length)}）`],
      ['已通过', `${people.filter((p) => p.result?.passed).length} 人`],
      ['截止', chineseDay(exam.dueOn)],
    ]),
    table(
      ['科室', '应参加', '已参加', '通过', '平均最好成绩'],
      departments.map((d) => [d.department, d.audience, `${d.took}（${pct(d.took, d.audience)}）`, d.passed, d.meanBest === null ? '—' : d.meanBest.toFixed(1)]),
    ),
  ]);
}

/** `预览 考试`: who the invitation would reach; `reach` are the push preview's own fields. */
export function examPushPreviewCard(exam: Exam, reach: [string, string | number][], alreadySent: number): Card {
  return card(`预览：考试通知 · ${exam.title}（不会发送）`, [
    fields([...reach, ['此前已推送', alreadySent], ['截止', chineseDay(exam.dueOn)]]),
    note(`收件人是考试范围内尚未参加的人员。发送“推送 考试 ${exam.id}”即推送；此前已收到的人员不会重复收到。`),
  ]);
}
