import type { ApiToken, Organization, User } from '../../db/tables.js';
import { isError } from '../../errors.js';
import { builder } from '../../graphql/builder.js';
import { resultUnion } from '../../graphql/errors.js';
import { organizationLoaders } from './loaders.js';
import {
  createApiToken,
  createOrganization,
  createUser,
  getOrganization,
  listApiTokens,
  MAX_TOKEN_LIFETIME_DAYS,
  revokeApiToken,
  updateOrganizationSettings,
} from './service.js';

export const OrganizationRef = builder.objectRef<Organization>('Organization');
export const UserRef = builder.objectRef<User>('User');
const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken');
const UserRoleEnum = builder.enumType('UserRole', { values: ['ADMIN', 'MEMBER'] as const });

builder.node(OrganizationRef, {
  description: 'A tenant. Everything a token can see belongs to its organization.',
  id: { resolve: (org) => org.id },
  loadOne: async (id, ctx) => (id === ctx.viewer.organizationId ? getOrganization(ctx.app.db, ctx.viewer) : null),
  fields: (t) => ({
    name: t.exposeString('name'),
    dailyBatchLimit: t.exposeInt('dailyBatchLimit', {
      nullable: true,
      description: 'Batches each deployment may create per UTC day; null = unlimited.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.node(UserRef, {
  id: { resolve: (user) => user.id },
  loadOne: (id, ctx) => organizationLoaders(ctx).user.load(id),
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.field({ type: UserRoleEnum, resolve: (user) => user.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

ApiTokenRef.implement({
  description: 'An API token. Its secret is shown once, when it is created; only a hash is stored.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'From this instant on the token is refused like a revoked one; null = it never expires.',
    }),
  }),
});

const ViewerRef = builder.objectRef<User>('Viewer').implement({
  description: 'The user the bearer token belongs to.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: UserRoleEnum, resolve: (user) => user.role }),
    isServerAdmin: t.exposeBoolean('isServerAdmin', { description: 'The bootstrap user: may create organizations.' }),
    organization: t.field({ type: OrganizationRef, resolve: (_user, _args, ctx) => getOrganization(ctx.app.db, ctx.viewer) }),
    apiTokens: t.field({
      type: [ApiTokenRef],
      description: "The viewer's tokens that still work: neither revoked nor expired.",
      resolve: (_user, _args, ctx) => listApiTokens(ctx.app.db, ctx.viewer),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    resolve: async (_root, _args, ctx) => (await organizationLoaders(ctx).user.load(ctx.viewer.userId))!,
  }),
);

// ---------------------------------------------------------------------------------------------

const TOKEN_EXPIRY = `When the token stops working: in the future, at most ${MAX_TOKEN_LIFETIME_DAYS} days ahead. Omitted or null: it never expires.`;

interface TokenPayload {
  token: ApiToken;
  secret: string;
}

const CreateOrganizationSuccess = builder
  .objectRef<TokenPayload & { organization: Organization; admin: User }>('CreateOrganizationSuccess')
  .implement({
    fields: (t) => ({
      organization: t.field({ type: OrganizationRef, resolve: (p) => p.organization }),
      admin: t.field({ type: UserRef, description: 'The first admin of the new organization.', resolve: (p) => p.admin }),
      token: t.field({ type: ApiTokenRef, resolve: (p) => p.token }),
      secret: t.exposeString('secret', { description: "The admin's API token. Shown only this once." }),
    }),
  });

builder.mutationField('createOrganization', (t) =>
  t.field({
    type: resultUnion('CreateOrganizationResult', CreateOrganizationSuccess, ['ForbiddenError', 'ValidationError']),
    description: "Server admin only: a new tenant with its first admin user and that admin's API token.",
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateOrganizationInput', {
          fields: (f) => ({
            name: f.string({ required: true, description: 'Unique, 1–200 characters.' }),
            dailyBatchLimit: f.int({ description: 'Batches per deployment per UTC day. Omitted: 100. null: unlimited.' }),
            adminName: f.string({ description: 'Name of the first admin user (default `admin`).' }),
            adminTokenExpiresAt: f.field({ type: 'DateTime', description: TOKEN_EXPIRY }),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => createOrganization(ctx.app.db, ctx.viewer, input),
  }),
);

const OrganizationSuccess = builder.objectRef<{ organization: Organization }>('UpdateOrganizationSettingsSuccess').implement({
  fields: (t) => ({ organization: t.field({ type: OrganizationRef, resolve: (p) => p.organization }) }),
});

builder.mutationField('updateOrganizationSettings', (t) =>
  t.field({
    type: resultUnion('UpdateOrganizationSettingsResult', OrganizationSuccess, ['ForbiddenError', 'ValidationError']),
    description: 'Organization admins only. Omitted fields keep their value.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateOrganizationSettingsInput', {
          fields: (f) => ({ dailyBatchLimit: f.int({ description: 'Batches per deployment per UTC day; null = unlimited.' }) }),
        }),
      }),
    },
    resolve: async (_root, { input }, ctx) => {
      const organization = await updateOrganizationSettings(ctx.app.db, ctx.viewer, input);
      return isError(organization) ? organization : { organization };
    },
  }),
);

const CreateUserSuccess = builder.objectRef<TokenPayload & { user: User }>('CreateUserSuccess').implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    token: t.field({ type: ApiTokenRef, resolve: (p) => p.token }),
    secret: t.exposeString('secret', { description: "The new user's API token. Shown only this once." }),
  }),
});

builder.mutationField('createUser', (t) =>
  t.field({
    type: resultUnion('CreateUserResult', CreateUserSuccess, ['ForbiddenError', 'ValidationError']),
    description: 'Organization admins only: a user of the same organization, with an API token.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateUserInput', {
          fields: (f) => ({
            name: f.string({ required: true }),
            role: f.field({ type: UserRoleEnum, description: 'Default MEMBER.' }),
            tokenExpiresAt: f.field({ type: 'DateTime', description: TOKEN_EXPIRY }),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => createUser(ctx.app.db, ctx.viewer, input),
  }),
);

const CreateApiTokenSuccess = builder.objectRef<TokenPayload>('CreateApiTokenSuccess').implement({
  fields: (t) => ({
    token: t.field({ type: ApiTokenRef, resolve: (p) => p.token }),
    secret: t.exposeString('secret', { description: 'Use as `Authorization: Bearer <secret>`. Shown only this once.' }),
  }),
});

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: resultUnion('CreateApiTokenResult', CreateApiTokenSuccess, ['ValidationError']),
    description: 'A new API token for the calling user.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateApiTokenInput', {
          fields: (f) => ({
            name: f.string({ required: true }),
            expiresAt: f.field({ type: 'DateTime', description: TOKEN_EXPIRY }),
          }),
        }),
      }),
    },
    resolve: (_root, { input }, ctx) => createApiToken(ctx.app.db, ctx.viewer, input),
  }),
);

const RevokeApiTokenSuccess = builder.objectRef<{ token: ApiToken }>('RevokeApiTokenSuccess').implement({
  fields: (t) => ({ token: t.field({ type: ApiTokenRef, resolve: (p) => p.token }) }),
});

builder.mutationField('revokeApiToken', (t) =>
  t.field({
    type: resultUnion('RevokeApiTokenResult', RevokeApiTokenSuccess, ['NotFoundError']),
    description: 'Revokes one of your tokens (admins: any token of the organization). Requests with it fail from now on.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const token = await revokeApiToken(ctx.app.db, ctx.viewer, id);
      return isError(token) ? token : { token };
    },
  }),
);
