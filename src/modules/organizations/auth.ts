import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Viewer } from '../../context.js';
import type { Db } from '../../db/client.js';
import { apiTokens, users } from '../../db/tables.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `bl_${randomBytes(24).toString('base64url')}`;
}

/** `Bearer <token>` → token, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** A token that authenticates: not revoked, and not expired (by the database's clock). */
function usable(): SQL {
  return and(isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)))!;
}

export async function authenticate(db: Db, token: string | undefined): Promise<Viewer | null> {
  if (!token || token.length > 200) return null;
  const [row] = await db
    .select({
      userId: users.id,
      organizationId: users.organizationId,
      role: users.role,
      isServerAdmin: users.isServerAdmin,
      tokenId: apiTokens.id,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), usable()));
  return row ?? null;
}

/** Which of these tokens no longer authenticate: revoked, expired, or gone. */
export async function unusableTokens(db: Db, tokenIds: string[]): Promise<Set<string>> {
  const live = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(inArray(apiTokens.id, tokenIds), usable()));
  const alive = new Set(live.map((row) => row.id));
  return new Set(tokenIds.filter((id) => !alive.has(id)));
}
