// Request bodies: JSON only (Content-Type: application/json), an empty one as none, every key once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import { JsonTextProblem, parseJsonText, showJsonPath, type JsonPath } from '../shared/index.ts';

/** How a route names a key of its body in an error, e.g. `User "u9", table "purchases"`. */
export type JsonKeyName = (path: JsonPath, key: string) => string;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Names a key of this route's body in DUPLICATE_KEY; without it, by its path. */
    jsonKeyName?: JsonKeyName;
  }
}

const byPath: JsonKeyName = (path, key) =>
  path.length === 0
    ? `The key "${key}"`
    : `The key "${key}" at ${showJsonPath(path)} of the request body`;

/**
 * Replaces fastify's parsers. Its text/plain parser handed routes a string that they then refused
 * as the wrong shape (422), while a body without any type got 415: now every type but JSON gets
 * the 415. Its JSON parser refused an empty body, which clients that always send the header make
 * of a DELETE or a body-less POST: an empty body is now no body, and routes that need one say so
 * themselves. And it answered prototype keys and syntax errors with the same text, naming neither
 * the key nor a position; json-text.ts names both, and refuses a key given twice in one object.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request: FastifyRequest, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.length === 0) {
        done(null, undefined);
        return;
      }
      try {
        done(null, parseJsonText(text, { forbidPrototypeKeys: true }));
      } catch (error) {
        if (!(error instanceof JsonTextProblem)) throw error;
        done(bodyError(error, request.routeOptions.config.jsonKeyName ?? byPath), undefined);
      }
    },
  );
}

function bodyError(problem: JsonTextProblem, name: JsonKeyName): AppError {
  switch (problem.kind) {
    case 'duplicate':
      return new AppError('DUPLICATE_KEY', {
        what: name(problem.path, problem.key),
        position: problem.position ?? '?',
      });
    case 'forbidden':
      return new AppError('FORBIDDEN_KEY', {
        what:
          problem.path.length === 0
            ? `"${problem.key}"`
            : `"${problem.key}" (at ${showJsonPath(problem.path)})`,
      });
    default:
      return new AppError('INVALID_JSON', { detail: problem.message });
  }
}
