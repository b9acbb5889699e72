/**
 * The app's access token, cached until shortly before it expires. However many sends wait
 * for a token at once, one request fetches it; a token the platform calls invalid is
 * dropped once (by whichever caller saw it first) so the next caller fetches a fresh one.
 */
export interface IssuedToken {
  token: string;
  /** Seconds the platform says the token lives. */
  expiresInSeconds: number;
}

export class TokenCache {
  private current?: { token: string; expiresAt: number };
  private inflight?: Promise<string>;
  /** How many times the token was fetched (for metrics and tests). */
  fetches = 0;

  constructor(
    private fetchToken: () => Promise<IssuedToken>,
    /** Refresh this long before the platform's expiry, so a send never carries a dying token. */
    private marginMs = 5 * 60_000,
    private now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.expiresAt) return this.current.token;
    if (!this.inflight) {
      this.fetches += 1;
      this.inflight = this.fetchToken()
        .then((t) => {
          // A token shorter-lived than the margin is still used, for half its life.
          const life = t.expiresInSeconds * 1000;
          const usable = life > this.marginMs * 2 ? life - this.marginMs : life / 2;
          this.current = { token: t.token, expiresAt: this.now() + usable };
          return t.token;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /** Forgets `token` if it is still the cached one; a newer token is kept. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}
