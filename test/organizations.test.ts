import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateApiTokenDocument,
  CreateOrganizationDocument,
  CreateUserDocument,
  RevokeApiTokenDocument,
  UpdateOrganizationSettingsDocument,
  ViewerDocument,
} from './generated/graphql.js';
import { createOrganization } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('bootstrap and viewer', () => {
  it('creates organization "default" with an unlimited batch limit and a server-admin user', async () => {
    const { viewer } = await server.op(ViewerDocument, {});
    expect(viewer).toMatchObject({
      name: 'admin',
      role: 'ADMIN',
      isServerAdmin: true,
      organization: { name: 'default', dailyBatchLimit: null },
    });
    expect(viewer.apiTokens).toHaveLength(1);
  });

  it('stores tokens hashed, never in clear', async () => {
    const rows = await server.sql<{ token_hash: string }[]>`select token_hash from api_tokens`;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.token_hash).not.toContain(server.adminToken);
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('answers 401 without a token, with a bad one, and with a malformed header', async () => {
    for (const token of [null, 'bl_not_a_real_token']) {
      const response = await server.graphql(ViewerDocument, {}, token);
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const raw = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Token ${server.adminToken}` },
      body: JSON.stringify({ query: print(ViewerDocument) }),
    });
    expect(raw.status).toBe(401);
  });
});

describe('organizations', () => {
  it('lets the server admin create an organization whose admin token works and sees only its own tenant', async () => {
    const org = await createOrganization(server, 7);
    const { viewer } = await server.op(ViewerDocument, {}, org.token);
    expect(viewer.organization).toMatchObject({ id: org.organizationId, dailyBatchLimit: 7 });
    expect(viewer.isServerAdmin).toBe(false);
  });

  it('defaults the daily batch limit to 100 and accepts null as unlimited', async () => {
    const omitted = await server.op(CreateOrganizationDocument, { input: { name: 'limit-default' } });
    expect(omitted.createOrganization).toMatchObject({ organization: { dailyBatchLimit: 100 } });
    const unlimited = await server.op(CreateOrganizationDocument, { input: { name: 'limit-null', dailyBatchLimit: null } });
    expect(unlimited.createOrganization).toMatchObject({ organization: { dailyBatchLimit: null } });
  });

  it('refuses organization creation to anyone but the server admin', async () => {
    const org = await createOrganization(server);
    const result = await server.op(CreateOrganizationDocument, { input: { name: 'sneaky' } }, org.token);
    expect(result.createOrganization.__typename).toBe('ForbiddenError');
  });

  it('names the field at fault for a duplicate name, an empty name and a negative limit', async () => {
    const duplicate = await server.op(CreateOrganizationDocument, { input: { name: 'default' } });
    expect(duplicate.createOrganization).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'name' }] });
    const empty = await server.op(CreateOrganizationDocument, { input: { name: '   ' } });
    expect(empty.createOrganization).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'name' }] });
    const negative = await server.op(CreateOrganizationDocument, { input: { name: 'neg', dailyBatchLimit: -1 } });
    expect(negative.createOrganization).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'dailyBatchLimit' }] });
  });

  it('lets org admins change the daily limit, and refuses members', async () => {
    const org = await createOrganization(server);
    const changed = await server.op(UpdateOrganizationSettingsDocument, { input: { dailyBatchLimit: null } }, org.token);
    expect(changed.updateOrganizationSettings).toMatchObject({ organization: { dailyBatchLimit: null } });
    const member = await server.op(CreateUserDocument, { input: { name: 'member', role: 'MEMBER' } }, org.token);
    if (member.createUser.__typename !== 'CreateUserSuccess') throw new Error('member not created');
    const refused = await server.op(UpdateOrganizationSettingsDocument, { input: { dailyBatchLimit: 5 } }, member.createUser.secret);
    expect(refused.updateOrganizationSettings.__typename).toBe('ForbiddenError');
  });
});

describe('API tokens', () => {
  it('issues a token shown once that authenticates, and revoking it locks it out', async () => {
    const created = await server.op(CreateApiTokenDocument, { input: { name: 'ci' } });
    if (created.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error('token not created');
    const { secret, token } = created.createApiToken;
    expect((await server.op(ViewerDocument, {}, secret)).viewer.name).toBe('admin');
    const revoked = await server.op(RevokeApiTokenDocument, { id: token.id });
    expect(revoked.revokeApiToken).toMatchObject({ __typename: 'RevokeApiTokenSuccess', token: { id: token.id } });
    expect((await server.graphql(ViewerDocument, {}, secret)).status).toBe(401);
  });

  it("treats another organization's token id as missing", async () => {
    const other = await createOrganization(server);
    const mine = await server.op(CreateApiTokenDocument, { input: { name: 'mine' } });
    if (mine.createApiToken.__typename !== 'CreateApiTokenSuccess') throw new Error('token not created');
    const probe = await server.op(RevokeApiTokenDocument, { id: mine.createApiToken.token.id }, other.token);
    expect(probe.revokeApiToken).toMatchObject({ __typename: 'NotFoundError', message: 'Api Token not found' });
    const missing = await server.op(RevokeApiTokenDocument, { id: 'tok_000000000000000000000000' }, other.token);
    expect(missing.revokeApiToken).toEqual(probe.revokeApiToken);
    expect((await server.op(ViewerDocument, {}, mine.createApiToken.secret)).viewer.name).toBe('admin');
  });

  it('refuses an empty token name', async () => {
    const result = await server.op(CreateApiTokenDocument, { input: { name: '' } });
    expect(result.createApiToken).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'name', message: 'must not be empty' }],
    });
  });
});
