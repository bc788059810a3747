import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Viewer } from '../../context.js';
import type { Db, DbOrTx } from '../../db/client.js';
import { lockBootstrap } from '../../db/locks.js';
import { type ApiToken, apiTokens, type Organization, organizations, type User, users } from '../../db/tables.js';
import { transactionResult } from '../../db/transactions.js';
import { ForbiddenError, isError, NotFoundError, type Result, ValidationError } from '../../errors.js';
import { announce } from '../../events/hub.js';
import { newId } from '../../ids.js';
import { type Loose, nameSchema, parseInput } from '../../validation.js';
import { generateToken, hashToken } from './auth.js';

/** Limit for organizations created through the API when none is given (SPEC: default 100). */
export const DEFAULT_DAILY_BATCH_LIMIT = 100;

const dailyBatchLimitSchema = z
  .number({ error: 'must be an integer or null' })
  .int('must be an integer')
  .min(0, 'must be ≥ 0 (null means unlimited)')
  .max(1_000_000, 'must be at most 1000000')
  .nullable();

/** The furthest a token's expiry may lie ahead. */
export const MAX_TOKEN_LIFETIME_DAYS = 3650;

/**
 * An optional expiry of a new token: a future instant at most MAX_TOKEN_LIFETIME_DAYS ahead; null or
 * absent = the token never expires. Checked against the clock when the request is served.
 */
const tokenExpirySchema = z
  .date({ error: 'must be a date-time' })
  .refine((date) => date.getTime() > Date.now(), 'must be in the future')
  .refine(
    (date) => date.getTime() <= Date.now() + MAX_TOKEN_LIFETIME_DAYS * 86_400_000,
    `must be at most ${MAX_TOKEN_LIFETIME_DAYS} days from now`,
  )
  .nullish();

export interface IssuedToken {
  token: ApiToken;
  /** The secret, shown once. */
  secret: string;
}

async function issueToken(
  db: DbOrTx,
  user: User,
  name: string,
  expiresAt: Date | null | undefined,
  secret = generateToken(),
): Promise<IssuedToken> {
  const [token] = await db
    .insert(apiTokens)
    .values({
      id: newId('ApiToken'),
      userId: user.id,
      organizationId: user.organizationId,
      name,
      tokenHash: hashToken(secret),
      expiresAt: expiresAt ?? null,
    })
    .returning();
  return { token: token!, secret };
}

/**
 * On an empty database: organization `default` (unlimited batches, as self-managed installs expect)
 * and its admin, who is also the server admin. Returns the admin's token secret when one was made.
 */
export async function bootstrap(db: Db, configuredToken: string | undefined): Promise<{ token: string; generated: boolean } | null> {
  return db.transaction(async (tx) => {
    await lockBootstrap(tx);
    const [existing] = await tx.select({ id: organizations.id }).from(organizations).limit(1);
    if (existing) return null;
    const [org] = await tx
      .insert(organizations)
      .values({ id: newId('Organization'), name: 'default', dailyBatchLimit: null })
      .returning();
    const [admin] = await tx
      .insert(users)
      .values({ id: newId('User'), organizationId: org!.id, name: 'admin', role: 'ADMIN', isServerAdmin: true })
      .returning();
    // The bootstrap token never expires: it is how an operator gets back in.
    const issued = await issueToken(tx, admin!, 'bootstrap', null, configuredToken);
    return { token: issued.secret, generated: configuredToken === undefined };
  });
}

export async function getOrganization(db: Db, viewer: Viewer): Promise<Organization> {
  const [org] = await db.select().from(organizations).where(eq(organizations.id, viewer.organizationId));
  if (!org) throw new Error(`organization ${viewer.organizationId} of an authenticated viewer is missing`);
  return org;
}

export async function usersByIds(db: Db, organizationId: string, ids: readonly string[]): Promise<User[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(users)
    .where(and(eq(users.organizationId, organizationId), inArray(users.id, [...ids])));
}

export async function getUser(db: Db, viewer: Viewer, id: string): Promise<User | null> {
  const [user] = await usersByIds(db, viewer.organizationId, [id]);
  return user ?? null;
}

const createOrganizationInput = z.object({
  name: nameSchema(200),
  dailyBatchLimit: dailyBatchLimitSchema.optional(),
  adminName: nameSchema(200).optional(),
  adminTokenExpiresAt: tokenExpirySchema,
});

export async function createOrganization(
  db: Db,
  viewer: Viewer,
  input: Loose<z.input<typeof createOrganizationInput>>,
): Promise<Result<{ organization: Organization; admin: User } & IssuedToken>> {
  if (!viewer.isServerAdmin) return new ForbiddenError('Only the server admin can create organizations');
  const parsed = parseInput(createOrganizationInput, input);
  if (isError(parsed)) return parsed;
  return db.transaction(async (tx) => {
    const [organization] = await tx
      .insert(organizations)
      .values({
        id: newId('Organization'),
        name: parsed.name,
        dailyBatchLimit: parsed.dailyBatchLimit === undefined ? DEFAULT_DAILY_BATCH_LIMIT : parsed.dailyBatchLimit,
      })
      .onConflictDoNothing({ target: organizations.name })
      .returning();
    if (!organization) return ValidationError.of('name', 'an organization with this name already exists');
    const [admin] = await tx
      .insert(users)
      .values({ id: newId('User'), organizationId: organization.id, name: parsed.adminName ?? 'admin', role: 'ADMIN' })
      .returning();
    const issued = await issueToken(tx, admin!, 'initial admin token', parsed.adminTokenExpiresAt);
    return { organization, admin: admin!, ...issued };
  });
}

/** Null when the viewer is an organization admin; otherwise the refusal, naming the action. */
export function requireAdmin(viewer: Viewer, action: string): ForbiddenError | null {
  return viewer.role === 'ADMIN' ? null : new ForbiddenError(`Only organization admins can ${action}`);
}

export async function updateOrganizationSettings(
  db: Db,
  viewer: Viewer,
  input: { dailyBatchLimit?: number | null | undefined },
): Promise<Result<Organization>> {
  const forbidden = requireAdmin(viewer, 'change organization settings');
  if (forbidden) return forbidden;
  const parsed = parseInput(z.object({ dailyBatchLimit: dailyBatchLimitSchema.optional() }), input);
  if (isError(parsed)) return parsed;
  if (parsed.dailyBatchLimit !== undefined) {
    await transactionResult(db, async (tx) => {
      await tx.update(organizations).set({ dailyBatchLimit: parsed.dailyBatchLimit }).where(eq(organizations.id, viewer.organizationId));
      await announce(tx, { k: 'org-quota', o: viewer.organizationId });
      return true;
    });
  }
  return getOrganization(db, viewer);
}

export async function createUser(
  db: Db,
  viewer: Viewer,
  input: { name: string; role?: 'ADMIN' | 'MEMBER' | null | undefined; tokenExpiresAt?: Date | null | undefined },
): Promise<Result<{ user: User } & IssuedToken>> {
  const forbidden = requireAdmin(viewer, 'add users');
  if (forbidden) return forbidden;
  const parsed = parseInput(
    z.object({ name: nameSchema(200), role: z.enum(['ADMIN', 'MEMBER']).nullish(), tokenExpiresAt: tokenExpirySchema }),
    input,
  );
  if (isError(parsed)) return parsed;
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ id: newId('User'), organizationId: viewer.organizationId, name: parsed.name, role: parsed.role ?? 'MEMBER' })
      .returning();
    const issued = await issueToken(tx, user!, 'initial token', parsed.tokenExpiresAt);
    return { user: user!, ...issued };
  });
}

/** Any user may mint tokens for themself, optionally expiring. */
export async function createApiToken(
  db: Db,
  viewer: Viewer,
  input: { name: string; expiresAt?: Date | null | undefined },
): Promise<Result<IssuedToken>> {
  const parsed = parseInput(z.object({ name: nameSchema(200), expiresAt: tokenExpirySchema }), input);
  if (isError(parsed)) return parsed;
  const [user] = await db.select().from(users).where(eq(users.id, viewer.userId));
  return issueToken(db, user!, parsed.name, parsed.expiresAt);
}

/** Users revoke their own tokens; admins any token of their organization. */
export async function revokeApiToken(db: Db, viewer: Viewer, id: string): Promise<Result<ApiToken>> {
  const [token] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.id, id), eq(apiTokens.organizationId, viewer.organizationId)));
  if (!token || (token.userId !== viewer.userId && viewer.role !== 'ADMIN')) return new NotFoundError('ApiToken');
  const [revoked] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  return revoked!;
}

/** The viewer's tokens that still authenticate: neither revoked nor expired. */
export async function listApiTokens(db: Db, viewer: Viewer): Promise<ApiToken[]> {
  return db
    .select()
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.userId, viewer.userId),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
      ),
    )
    .orderBy(apiTokens.createdAt);
}
