// Cloak API admin routes: user table definitions, lookup tables and forgetting a user (admin key).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  identityOf,
  okAnswer,
  requireKey,
  routeDoc,
  successWith,
  type KeyRegistry,
  type RouteDoc,
} from '../../http/index.ts';
import { AppError } from '../../errors/index.ts';
import type { CloakDataStore } from '../data/index.ts';
import * as shapes from './api-schemas.ts';

export interface TableRoutesOptions {
  data: CloakDataStore;
  registry: KeyRegistry;
}

export const tableRoutes: FastifyPluginAsync<TableRoutesOptions> = async (
  app,
  { data, registry },
) => {
  const preHandler = requireKey(registry, ['admin']);
  const admin = (tag: string, doc: Omit<RouteDoc, 'tags' | 'keys'>) => ({
    preHandler,
    schema: routeDoc({ tags: [tag], keys: ['admin'], ...doc }),
  });
  type Named = { Params: { name: string } };
  const tableAnswer = successWith({ table: shapes.table });
  const named = shapes.byName;

  const listDoc = {
    summary: "The organisation's tables",
    responses: { 200: successWith({ tables: z.array(shapes.table) }) },
  };
  app.get('/tables', admin('tables', listDoc), async (request) => ({
    success: true,
    tables: await data.listTables(identityOf(request).orgId),
  }));

  const createDoc = {
    summary: 'Define a table',
    body: shapes.newTableBody,
    responses: { 201: tableAnswer },
  };
  app.post('/tables', admin('tables', createDoc), async (request, reply) => {
    const table = await data.createTable(identityOf(request).orgId, request.body);
    return reply.status(201).send({ success: true, table });
  });

  const alterDoc = {
    summary: 'Add or drop columns (dropping erases their values)',
    params: named,
    body: shapes.tableChangeBody,
    responses: { 200: tableAnswer },
  };
  app.patch<Named>('/tables/:name', admin('tables', alterDoc), async (request) => ({
    success: true,
    table: await data.alterTable(identityOf(request).orgId, request.params.name, request.body),
  }));

  const dropDoc = {
    summary: 'Drop a table and its rows',
    params: named,
    responses: { 200: okAnswer },
  };
  app.delete<Named>('/tables/:name', admin('tables', dropDoc), async (request) => {
    const orgId = identityOf(request).orgId;
    if (!(await data.getTable(orgId, request.params.name))) {
      throw new AppError('UNKNOWN_TABLE', {
        table: request.params.name,
        known: (await data.listTables(orgId)).map((t) => t.name).join(', ') || 'none',
      });
    }
    await data.dropTable(orgId, request.params.name);
    return { success: true };
  });

  const lookupListDoc = {
    summary: "The names of the organisation's lookup tables",
    responses: { 200: successWith({ lookup_tables: z.array(z.string()) }) },
  };
  app.get('/lookup_tables', admin('lookup tables', lookupListDoc), async (request) => ({
    success: true,
    lookup_tables: await data.listLookupTables(identityOf(request).orgId),
  }));

  const lookupSetDoc = {
    summary: 'Create or replace a whole lookup table',
    params: named,
    body: shapes.lookupTableBody,
    responses: { 200: okAnswer },
  };
  app.put<Named>('/lookup_tables/:name', admin('lookup tables', lookupSetDoc), async (request) => {
    await data.setLookupTable(identityOf(request).orgId, request.params.name, request.body);
    return { success: true };
  });

  const lookupDropDoc = {
    summary: 'Remove a lookup table',
    params: named,
    responses: { 200: okAnswer },
  };
  app.delete<Named>(
    '/lookup_tables/:name',
    admin('lookup tables', lookupDropDoc),
    async (request) => {
      await data.removeLookupTable(identityOf(request).orgId, request.params.name);
      return { success: true };
    },
  );

  const forgetDoc = {
    summary: 'Forget every row of one user',
    params: z.strictObject({ userId: z.string() }),
    responses: { 200: successWith({ rows_removed: z.number().int() }) },
  };
  app.delete<{ Params: { userId: string } }>(
    '/users/:userId',
    admin('users', forgetDoc),
    async (request) => ({
      success: true,
      rows_removed: await data.deleteUser(identityOf(request).orgId, request.params.userId),
    }),
  );
};
