// Who is asking on the analyst web site: the logged-in analyst, their organisation, and admin checks.
import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { AppError } from '../../../errors/index.ts';
import type { TaskActor } from '../../access-levels.ts';
import type { Analyst } from '../../store/index.ts';

/** The analyst of a route behind requireSession. */
export function analystOf(request: FastifyRequest): Analyst {
  if (!request.session) throw new Error('analystOf called on a route without requireSession');
  return request.session.analyst;
}

/** The audit log's name for the analyst. */
export function actorOf(request: FastifyRequest): string {
  return `analyst:${analystOf(request).id}`;
}

/** The logged-in person as the saver or starter of a task: their level is read at run time. */
export function personOf(request: FastifyRequest): TaskActor {
  return { actor: actorOf(request), personId: analystOf(request).id };
}

/** Runs after requireSession: only admins pass. */
export const requireAdmin: preHandlerHookHandler = async (request) => {
  if (analystOf(request).role !== 'admin') throw new AppError('ADMIN_REQUIRED');
};
