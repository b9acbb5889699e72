import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`清廉助手无法启动：配置有误。\n${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const app = await createApp({ config });
  const url = await app.start();
  if (app.sandbox) {
    console.log(`\n清廉助手已启动（本地沙盒）：请在浏览器打开 ${url.replace('0.0.0.0', '127.0.0.1')}/sandbox\n`);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.logger.error('shutdown timed out; exiting with work still in flight');
      process.exit(1);
    }, app.config.env.SHUTDOWN_TIMEOUT_SECONDS * 1000).unref();
    await app.stop();
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('清廉助手启动失败：', err instanceof Error ? err.message : err);
  process.exit(1);
});
