import { describe, expect, it } from 'vitest';
import {
  answeredCard,
  examInviteCard,
  examListCard,
  examProgressCard,
  examPushPreviewCard,
  myScoresCard,
  questionCard,
  resumedQuestionCard,
  scoreCard,
  startedQuestionCard,
  timedOutCard,
  wrongAnswersCard,
} from '../cards/quiz.js';
import type { Exam } from '../src/domain/quiz/exams.js';
import type { QuestionVersion } from '../src/domain/quiz/question.js';
import type { AttemptView } from '../src/domain/quiz/service.js';
import type { AttemptItem } from '../src/store/quiz.js';
import { allText, buttonsOf, elementsOf, fieldMap } from './helpers/card-parts.js';

const TZ = 'Asia/Shanghai';

const single: QuestionVersion = {
  id: 'Q1', version: 1, type: 'single', rule: 3, topic: '红包礼金', stem: '患者家属塞给您红包，您应当？',
  options: ['收下', '婉拒并说明规定', '先收后退'], answer: [1], explanation: '应当婉拒，并向家属说明规定。', source: '九项准则',
};
const multiple: QuestionVersion = {
  id: 'Q2', version: 1, type: 'multiple', rule: null, topic: '医药代表', stem: '以下哪些做法违规？',
  options: ['接受宴请', '参加学术会议', '收取回扣'], answer: [0, 2], explanation: '宴请和回扣均违规。', source: '廉洁从业规定',
};
const judge: QuestionVersion = {
  id: 'Q3', version: 1, type: 'judge', rule: 5, topic: '统方', stem: '可以向医药代表提供处方统计。',
  options: ['正确', '错误'], answer: [1], explanation: '严禁统方。', source: '九项准则',
};

const item = (idx: number, q: QuestionVersion, order: number[], extra: Partial<AttemptItem> = {}): AttemptItem => ({
  idx, questionId: q.id, questionVersion: 1, optionOrder: order, pending: [], selected: null, correct: null, ...extra,
});

function view(items: AttemptItem[], questions: QuestionVersion[], over: Partial<AttemptView['attempt']> = {}): AttemptView {
  return {
    title: '练习测验',
    questions,
    attempt: {
      id: '42', staffId: 'E1', departmentId: 1, examId: null, state: 'active', currentIndex: 0, questionCount: questions.length, passMark: 60,
      // 10:00 and 10:30 in Shanghai.
      startedAt: new Date('2026-12-01T02:00:00Z'), expiresAt: new Date('2026-12-01T02:30:00Z'), finishedAt: null,
      correctCount: null, score: null, passed: null, items, ...over,
    },
  };
}

const exam: Exam = {
  id: 'M12', title: '12月廉洁考试', questions: 20, audience: {}, opensOn: '2026-12-01', dueOn: '2026-12-20', attemptsAllowed: 2, remindDaysBeforeDue: [3, 1],
};

describe('cards/quiz', () => {
  it('14.2 a single-choice question card shows shown letters as buttons carrying only attempt, index and shown position', () => {
    const v = view([item(0, single, [2, 0, 1])], [single]);
    const c = questionCard(v, 0, TZ);
    expect(c.title).toBe('练习测验 · 第 1/1 题');
    expect(buttonsOf(c).map((b) => [b.label, b.actionId, b.value])).toEqual([
      ['A', 'quiz.answer', { t: '42', q: 0, o: 0 }],
      ['B', 'quiz.answer', { t: '42', q: 0, o: 1 }],
      ['C', 'quiz.answer', { t: '42', q: 0, o: 2 }],
    ]);
    // Shuffled: shown A is the original third option.
    expect(elementsOf(c, 'text')[0].text).toBe('A. 先收后退\nB. 收下\nC. 婉拒并说明规定');
    const text = allText(c);
    expect(text).toContain('**【单选题】**患者家属塞给您红包，您应当？');
    expect(text).toContain('请在 12月1日 10:30 前完成。');
    expect(text).not.toContain('应当婉拒');
  });

  it('14.2 a multiple-choice card toggles ticks and submits; a judge card shows the options as buttons', () => {
    const m = questionCard(view([item(0, multiple, [0, 1, 2], { pending: [2] })], [multiple]), 0, TZ);
    expect(buttonsOf(m).map((b) => [b.label, b.actionId, b.value])).toEqual([
      ['☐ A', 'quiz.tick', { t: '42', q: 0, o: 0, s: 1 }],
      ['☐ B', 'quiz.tick', { t: '42', q: 0, o: 1, s: 1 }],
      ['☑ C', 'quiz.tick', { t: '42', q: 0, o: 2, s: 0 }],
      ['提交答案', 'quiz.submit', { t: '42', q: 0 }],
    ]);
    expect(allText(m)).toContain('（已选 C）');
    const j = questionCard(view([item(0, judge, [1, 0])], [judge]), 0, TZ);
    expect(buttonsOf(j).map((b) => [b.label, b.value])).toEqual([['错误', { t: '42', q: 0, o: 0 }], ['正确', { t: '42', q: 0, o: 1 }]]);
    expect(elementsOf(j, 'text')).toHaveLength(0);
    expect(allText(j)).toContain('也可回复“答 对”作答');
  });

  it('14.2 the first and a resumed question carry their notes', () => {
    const v = view([item(0, single, [0, 1, 2]), item(1, judge, [0, 1])], [single, judge]);
    const started = allText(startedQuestionCard(v, [exam], TZ));
    expect(started).toContain('共 2 题，及格线 60 分，限时至 12月1日 10:30。选项顺序每次随机。');
    expect(started).toContain('另有“12月廉洁考试”待参加（12月20日截止）：发送“考试 M12”。');
    const resumed = resumedQuestionCard(view(v.attempt.items, v.questions, { currentIndex: 1 }), true, TZ);
    expect(resumed.title).toBe('练习测验 · 第 2/2 题');
    expect(allText(resumed)).toContain('已答 1 题，请从第 2 题继续。完成它（或发送“考试 交卷”）后才能开始新的考试。');
  });

  it('14.2 the answered card shows the verdict, both answers in shown letters and the explanation; timed out is grey', () => {
    const v = view([item(0, single, [2, 0, 1], { selected: [0], correct: false })], [single]);
    const c = answeredCard(v, 0);
    expect(c.title).toBe('练习测验 · 第 1/1 题 · 回答错误');
    expect(c.color).toBe('red');
    expect(fieldMap(c)).toEqual({ 正确答案: 'C', 您的答案: 'B' });
    expect(allText(c)).toContain('**解析**：应当婉拒，并向家属说明规定。');
    expect(allText(c)).toContain('出处：九项准则（九项准则第三条');
    expect(buttonsOf(c)).toEqual([]);
    const t = timedOutCard(v, 0);
    expect([t.title, t.color]).toEqual(['练习测验 · 第 1/1 题 · 已超时', 'grey']);
  });

  it('14.2 the score card: result, retries left and rules to revisit', () => {
    const items = [item(0, single, [0, 1, 2], { selected: [0], correct: false }), item(1, judge, [0, 1], { selected: [1], correct: true })];
    const c = scoreCard(view(items, [single, judge], { examId: 'M12', state: 'finished', score: 50, passed: false, correctCount: 1, finishedAt: new Date('2026-12-01T02:12:00Z') }), 1);
    expect(c.title).toBe('练习测验 · 50 分 · 未通过');
    expect(fieldMap(c)).toMatchObject({ 得分: '50 分', 答对: '1 / 2 题', 及格线: '60 分', 状态: '已完成', 用时: '约 12 分钟' });
    const text = allText(c);
    expect(text).toContain('**建议复习**\n- 九项准则第三条');
    expect(text).toContain('这场考试您还可以再参加 1 次：发送“考试 M12”。');
    const full = scoreCard(view([items[1]], [judge], { state: 'finished', score: 100, passed: true, correctCount: 1 }));
    expect(full.color).toBe('green');
    expect(allText(full)).toContain('全部答对');
  });

  it('14.2 the exam invitation and its reminder', () => {
    const invite = examInviteCard(exam);
    expect(invite.title).toBe('请参加：12月廉洁考试');
    expect(fieldMap(invite)).toEqual({ 题量: '20 题', 开放时间: '12月1日 至 12月20日', 可参加次数: '2 次' });
    expect(allText(invite)).toContain('发送 **考试 M12** 开始答题');
    const remind = examInviteCard({ ...exam, questions: ['Q1', 'Q2'] }, true);
    expect([remind.title, remind.color]).toEqual(['提醒：12月廉洁考试将于12月20日截止', 'orange']);
    expect(fieldMap(remind).题量).toBe('2 题');
  });

  it('14.2 wrong answers are paged three at a time with 上一页/下一页 carrying the page', () => {
    const wrong = [single, multiple, judge, single].map((question) => ({ question, selected: [0] }));
    const first = wrongAnswersCard(wrong, 0);
    expect(first.title).toBe('错题回顾 · 第 1/2 页（共 4 题）');
    expect(buttonsOf(first).map((b) => [b.label, b.actionId, b.value])).toEqual([['下一页', 'quiz.wrong', { p: 1 }]]);
    expect(elementsOf(first, 'divider')).toHaveLength(2);
    const last = wrongAnswersCard(wrong, 9);
    expect(last.title).toBe('错题回顾 · 第 2/2 页（共 4 题）');
    expect(buttonsOf(last).map((b) => [b.label, b.value])).toEqual([['上一页', { p: 0 }]]);
    expect(allText(last)).toContain('**4.【单选题】**');
    expect(fieldMap(last)).toEqual({ 您当时的答案: 'A', 正确答案: 'B' });
  });

  it('14.2 my scores: empty, and with best and latest attempts in the zone', () => {
    expect(allText(myScoresCard([], [], [exam], TZ))).toContain('您还没有参加过测验。');
    const c = myScoresCard(
      [{ title: '12月廉洁考试', startedAt: new Date('2026-12-01T02:00:00Z'), state: 'expired', score: 40, passed: false }],
      [{ title: '12月廉洁考试', best: 40, attempts: 1, allowed: 2, passed: false }],
      [],
      TZ,
    );
    const tables = elementsOf(c, 'table');
    expect(tables[0].rows).toEqual([['12月廉洁考试', '40 分', '1/2', '未通过']]);
    expect(tables[1].rows).toEqual([['12月1日 10:00', '12月廉洁考试', '40 分 · 未通过（超时）']]);
  });

  it('14.2 exam list, per-department progress and the push preview', () => {
    const list = examListCard([exam, { ...exam, id: 'M11', opensOn: '2026-11-01', dueOn: '2026-11-20' }], new Date('2026-12-05T00:00:00Z'), TZ);
    expect(elementsOf(list, 'table')[0].rows).toEqual([['M12', '12月廉洁考试', '12月1日–12月20日', '进行中'], ['M11', '12月廉洁考试', '11月1日–11月20日', '已截止']]);
    const progress = examProgressCard(exam, [{ department: '心内科', audience: 4, took: 2, passed: 1, meanBest: 72.5 }], [{ result: { passed: true } }, { result: { passed: false } }, {}, {}]);
    expect(progress.title).toBe('12月廉洁考试 · 参加情况');
    expect(fieldMap(progress)).toEqual({ 应参加: '4 人', 已参加: '2 人（50%）', 已通过: '1 人', 截止: '12月20日' });
    expect(elementsOf(progress, 'table')[0].rows).toEqual([['心内科', '4', '2（50%）', '1', '72.5']]);
    const preview = examPushPreviewCard(exam, [['收件人数', 3]], 5);
    expect(preview.title).toBe('预览：考试通知 · 12月廉洁考试（不会发送）');
    expect(fieldMap(preview)).toEqual({ 收件人数: '3', 此前已推送: '5', 截止: '12月20日' });
    expect(allText(preview)).toContain('发送“推送 考试 M12”即推送');
  });
});
