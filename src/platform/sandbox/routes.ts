import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../store/db.js';
import { getStaff, listActiveStaff } from '../../store/staff.js';
import { SANDBOX_HISTORY_LIMIT, type SandboxPlatform } from './adapter.js';
import { MAX_TEXT, tooLongMessage } from './limits.js';
import { sandboxPage } from './page.js';

const MAX_FILES = 9;
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const messageBody = z
  .object({
    userId: z.string().min(1).max(64),
    text: z.string().optional(),
    files: z
      .array(z.object({ name: z.string().min(1).max(200), mime: z.string().min(1).max(200), contentBase64: z.string().max(Math.ceil((MAX_FILE_BYTES * 4) / 3) + 8) }))
      .max(MAX_FILES)
      .optional(),
  })
  .refine((b) => (b.text ?? '').length > 0 || (b.files?.length ?? 0) > 0);
const actionBody = z.object({
  userId: z.string().min(1).max(64),
  messageId: z.string().min(1).max(100),
  actionId: z.string().min(1).max(100),
  value: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  form: z.record(z.string(), z.string()).optional(),
});

/** The sandbox's HTTP API (fixed: other checks drive it) and its page. */
export function registerSandboxRoutes(root: FastifyInstance, sandbox: SandboxPlatform, db: Db): void {
  // Its own scope, so its error handler covers only the sandbox's routes.
  void root.register(async (app) => routes(app, sandbox, db));
}

function routes(app: FastifyInstance, sandbox: SandboxPlatform, db: Db): void {
  const knownStaff = async (id: string) => {
    const s = await getStaff(db, id);
    return s?.active ? s : undefined;
  };
  // The page's own look-ups need the database; when it is down, say so instead of a bare 500.
  app.setErrorHandler((err, req, reply) => {
    req.log.error({ err }, 'sandbox request failed');
    return reply.code(503).send({ error: '系统暂时无法处理，请稍后再试。' });
  });

  app.get('/sandbox', async (_req, reply) => reply.type('text/html; charset=utf-8').send(sandboxPage()));

  app.get('/sandbox/api/staff', async () => ({
    staff: (await listActiveStaff(db)).map((s) => ({ staffId: s.staffId, name: s.name, department: s.department, roles: s.roles })),
  }));

  // Room for 9 files of 5 MB in base64 (the default 1 MB limit would refuse one photo).
  app.post('/sandbox/api/messages', { bodyLimit: 64 * 1024 * 1024 }, async (req, reply) => {
    const body = messageBody.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: '请求格式不正确：需要 {"userId": "工号", "text": "消息内容"}，或附带 files（最多 9 个）' });
    const length = [...(body.data.text ?? '')].length;
    if (length > MAX_TEXT) return reply.code(400).send({ error: tooLongMessage(length) });
    const files = (body.data.files ?? []).map((f) => ({ name: f.name, mime: f.mime, data: Buffer.from(f.contentBase64, 'base64') }));
    if (files.some((f) => f.data.length > MAX_FILE_BYTES)) return reply.code(400).send({ error: '每个文件不能超过 5 MB' });
    if (!(await knownStaff(body.data.userId))) return reply.code(404).send({ error: `人员名单中没有工号 ${body.data.userId}` });
    const { eventId, done } = sandbox.deliverMessage(body.data.userId, body.data.text ?? '', files);
    done.catch((err: unknown) => req.log.error({ err, eventId }, 'sandbox message failed'));
    return reply.code(202).send({ eventId });
  });

  app.get<{ Params: { staffId: string } }>('/sandbox/api/inbox/:staffId', async (req, reply) => {
    if (!(await knownStaff(req.params.staffId))) return reply.code(404).send({ error: `人员名单中没有工号 ${req.params.staffId}` });
    return { messages: sandbox.inbox(req.params.staffId) };
  });

  // What the page shows: the user's own messages too, kept across reloads and restarts.
  app.get<{ Params: { staffId: string } }>('/sandbox/api/conversation/:staffId', async (req, reply) => {
    if (!(await knownStaff(req.params.staffId))) return reply.code(404).send({ error: `人员名单中没有工号 ${req.params.staffId}` });
    return { messages: sandbox.conversation(req.params.staffId), limit: SANDBOX_HISTORY_LIMIT };
  });

  app.post('/sandbox/api/actions', async (req, reply) => {
    const body = actionBody.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: '请求格式不正确：需要 userId、messageId 和 actionId' });
    const { userId, messageId, actionId, value, form } = body.data;
    if (!(await knownStaff(userId))) return reply.code(404).send({ error: `人员名单中没有工号 ${userId}` });
    if (!sandbox.message(userId, messageId)) return reply.code(404).send({ error: '找不到这条消息，它可能不是发给该用户的' });
    const result = await sandbox.deliverAction(userId, messageId, actionId, value, form);
    // A refused form: the page shows each message next to its input, the values stay as typed.
    return reply.code(200).send({ ...(result.toast ? { toast: result.toast } : {}), ...(result.fieldErrors ? { fieldErrors: result.fieldErrors } : {}) });
  });

  app.get<{ Params: { id: string; name: string } }>('/sandbox/files/:id/:name', async (req, reply) => {
    const f = await sandbox.file(req.params.id);
    if (!f) return reply.code(404).send({ error: '文件不存在或已过期' });
    return reply
      .type(f.mime)
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`)
      .send(f.data);
  });
}
