// A lost connection is retried, a wrong call or a dropped database is not.
import { describe, expect, it } from 'vitest';
import { isConnectionLoss } from './connection-loss.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isConnectionLoss', () => {
  it.each([
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('the database system is starting up', '57P03'),
    withCode('connection failure', '08006'),
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    new Error('Connection terminated unexpectedly'),
  ])('retries %s', (error) => {
    expect(isConnectionLoss(error)).toBe(true);
  });

  it.each([
    withCode('database "gone" does not exist', '3D000'),
    withCode('password authentication failed for user "x"', '28P01'),
    withCode('relation "job" does not exist', '42P01'),
    new Error('pg-boss refused a shard job'),
    'not an error',
  ])('does not retry %s', (error) => {
    expect(isConnectionLoss(error)).toBe(false);
  });
});
