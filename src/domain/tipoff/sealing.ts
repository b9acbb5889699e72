import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The reporter's identity, sealed with AES-256-GCM under a key from the environment
 * (TIPOFF_KEY, base64 of 32 bytes). Each sealed value names its key by a fingerprint, so after a
 * rotation the old key, listed in TIPOFF_OLD_KEYS, still opens what it sealed while every new
 * value uses the new one. The case id is bound in as associated data: a sealed reporter copied
 * onto another case does not open.
 */

export interface Sealed {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  sealed: Buffer;
}

export const KEY_BYTES = 32;
export const NO_KEY_IN_PRODUCTION = '线索反映的举报人加密密钥（TIPOFF_KEY）未设置：生产环境中不受理线索反映，直到管理员设置密钥并重启。';

/** A key's public name: the first 16 hex digits of its SHA-256 (not the key, not reversible). */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export function decodeKey(b64: string): Buffer | undefined {
  const s = b64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  const key = Buffer.from(s, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

export class Keyring {
  private keys = new Map<string, Buffer>();
  private currentId: string | undefined;

  constructor(current: Buffer | undefined, old: Buffer[] = []) {
    for (const k of old) this.keys.set(keyIdOf(k), k);
    if (current) {
      this.currentId = keyIdOf(current);
      this.keys.set(this.currentId, current);
    }
  }

  get canSeal(): boolean {
    return this.currentId !== undefined;
  }

  seal(plain: string, boundTo: string): Sealed {
    if (!this.currentId) throw new Error('no tip-off key to seal with');
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    c.setAAD(Buffer.from(boundTo));
    const sealed = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return { keyId: this.currentId, iv, tag: c.getAuthTag(), sealed };
  }

  /** The plain text, or undefined when its key is not here or it was tampered with or moved. */
  open(s: Sealed, boundTo: string): string | undefined {
    const key = this.keys.get(s.keyId);
    if (!key) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', key, s.iv);
      d.setAAD(Buffer.from(boundTo));
      d.setAuthTag(s.tag);
      return Buffer.concat([d.update(s.sealed), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

export interface KeySource {
  TIPOFF_KEY?: string | undefined;
  TIPOFF_OLD_KEYS?: string | undefined;
  NODE_ENV: string;
  DATA_DIR: string;
}

export const DEV_KEY_FILE = 'tipoff.key';

/**
 * The keys of this deployment. Production without TIPOFF_KEY gets a keyring that cannot seal
 * (tip-offs are refused, /healthz says why). Elsewhere a missing key is generated once into
 * DATA_DIR/tipoff.key, only when first needed, so a sandbox works out of the box; `warn` is told.
 */
export function keyringFrom(env: KeySource, warn: (message: string) => void): { keyring: () => Keyring; warning?: string } {
  const old = (env.TIPOFF_OLD_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => decodeKey(s)!);
  if (env.TIPOFF_KEY) {
    const k = new Keyring(decodeKey(env.TIPOFF_KEY), old);
    return { keyring: () => k };
  }
  if (env.NODE_ENV === 'production') {
    const k = new Keyring(undefined, old);
    return { keyring: () => k, warning: NO_KEY_IN_PRODUCTION };
  }
  let k: Keyring | undefined;
  return {
    keyring: () => {
      if (k) return k;
      const file = join(env.DATA_DIR, DEV_KEY_FILE);
      if (!existsSync(file)) {
        mkdirSync(env.DATA_DIR, { recursive: true });
        writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
        warn(`TIPOFF_KEY is not set: generated a development key in ${file}; set TIPOFF_KEY in production`);
      }
      chmodSync(file, 0o600);
      const key = decodeKey(readFileSync(file, 'utf8'));
      if (!key) throw new Error(`${file} does not hold a base64 32-byte key`);
      k = new Keyring(key, old);
      return k;
    },
  };
}
