import { expect } from 'vitest';
import { loadConfig, type RateLimitBudget, type RateLimitSettings } from '../../src/config.js';
import type { RestAnswer } from '../helpers/server.js';

// Rate limit settings for tests: small budgets on the classes under test, the defaults elsewhere.

const budget = (perToken: number, perOrganization: number): RateLimitBudget => ({ perToken, perOrganization });

export function rateLimits(
  overrides: Partial<Omit<RateLimitSettings, 'graphqlCost' | 'restRequests' | 'ingestRequests' | 'ingestRows'>> &
    Partial<Record<'graphqlCost' | 'restRequests' | 'ingestRequests' | 'ingestRows', [number, number]>>,
): RateLimitSettings {
  const defaults = loadConfig({}).rateLimits;
  const pick = (name: 'graphqlCost' | 'restRequests' | 'ingestRequests' | 'ingestRows') => {
    const given = overrides[name];
    return given ? budget(...given) : defaults[name];
  };
  return {
    enabled: overrides.enabled ?? true,
    windowSeconds: overrides.windowSeconds ?? defaults.windowSeconds,
    graphqlCost: pick('graphqlCost'),
    restRequests: pick('restRequests'),
    ingestRequests: pick('ingestRequests'),
    ingestRows: pick('ingestRows'),
  };
}

/** A REST 429 of a rate limit: its name, budget and window, Retry-After within the window. */
export function expectRateLimited(answer: RestAnswer, limit: string, allowed: number, windowSeconds: number): number {
  expect(answer.status).toBe(429);
  const json = answer.json as Record<string, unknown>;
  expect(json).toMatchObject({ rateLimit: limit, allowed, windowSeconds });
  expect(json.message).toContain(`Rate limit exceeded: ${limit}`);
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(json.retryAfterSeconds).toBe(retryAfter);
  const resetsIn = Date.parse(json.resetAt as string) - Date.now();
  expect(resetsIn).toBeLessThanOrEqual(windowSeconds * 1000);
  return retryAfter;
}
