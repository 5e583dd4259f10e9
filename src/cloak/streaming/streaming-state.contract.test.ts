// One suite, both dialects: the streaming engine's state keeps a task's place and its users' outcomes the same on SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedVersions, openPostgresDb, type SqlDb } from '../../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import { STREAMING_COMPONENT } from './streaming-schema.ts';
import { StreamingState, type UserOutcomeRow } from './streaming-state.ts';

const outcome = (userId: string, n: number): UserOutcomeRow => ({
  userId,
  properties: JSON.stringify([['n', String(n)]]),
  error: null,
  accumulator: JSON.stringify(n),
});

describe.each(TEST_DIALECTS)('the streaming state on $dialect', ({ open }) => {
  let t: TestDb;
  let state: StreamingState;
  beforeEach(async () => {
    t = await open();
    state = new StreamingState(t.db);
    await state.ready();
  });
  afterEach(async () => t.cleanup());

  it('migrates its tables once', async () => {
    await new StreamingState(t.db).ready();
    expect(await appliedVersions(t.db, STREAMING_COMPONENT)).toEqual([1, 2]);
  });

  it('starts a task at the beginning once, and moves it only when a pass is done', async () => {
    expect(await state.position('task')).toBeUndefined();
    await state.addTask('task', 'org');
    await state.passDone('task', 7);
    await state.addTask('task', 'org');
    expect(await state.position('task')).toEqual({ nextSeq: 7, passTarget: null });
    await state.startPass('task', 12);
    expect(await state.position('task')).toEqual({ nextSeq: 7, passTarget: 12 });
    await state.passDone('task', 12);
    expect(await state.position('task')).toEqual({ nextSeq: 12, passTarget: null });
  });

  it('saves users with the pass’s target and reads back what a resumed pass needs', async () => {
    await state.addTask('task', 'org');
    await state.startPass('task', 5);
    await state.save('task', [outcome('a', 1), { ...outcome('b', 2), error: 'boom' }], 100, 5);
    const stored = await state.storedUsers('task', ['a', 'b', 'c']);
    expect(stored.target).toBe(5);
    expect(stored.users.sort((x, y) => x.userId.localeCompare(y.userId))).toEqual([
      { userId: 'a', accumulator: '1', throughSeq: 5 },
      { userId: 'b', accumulator: '2', throughSeq: 5 },
    ]);
    // A later pass replaces a user's outcome.
    await state.save('task', [outcome('a', 3)], 200, 9);
    expect((await state.storedUsers('task', ['a'])).users).toEqual([
      { userId: 'a', accumulator: '3', throughSeq: 9 },
    ]);
  });

  it('pages a report through every recent user, in user id order, and leaves out stale ones', async () => {
    await state.addTask('task', 'org');
    const ids = Array.from({ length: 2_345 }, (_, i) => `u${String(i).padStart(5, '0')}`);
    await state.save(
      'task',
      ids.slice(0, 2_300).map((id, i) => outcome(id, i)),
      1_000,
      1,
    );
    await state.save(
      'task',
      ids.slice(2_300).map((id, i) => outcome(id, i)),
      10,
      1,
    );
    const seen: string[] = [];
    for await (const user of state.recentUsers('task', 500)) seen.push(user.userId);
    expect(seen).toEqual(ids.slice(0, 2_300));
  });

  it('keeps the last report’s counts and forgets a task with its users', async () => {
    await state.addTask('task', 'org');
    await state.save('task', [outcome('a', 1)], 100, 1);
    expect(await state.lastReport('task')).toBeUndefined();
    await state.setLastReport('task', '[["n: 1",10]]');
    expect(await state.lastReport('task')).toBe('[["n: 1",10]]');
    await state.forgetTask('task');
    expect(await state.position('task')).toBeUndefined();
    expect((await state.storedUsers('task', ['a'])).users).toEqual([]);
  });
});

/** A promise and the function that resolves it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

// PostgreSQL only: on SQLite one process has the data directory, and the engine runs one pass at
// a time in it, so exclusivePass has nothing to exclude there (streaming-state.ts).
describe('one pass of a task at a time on PostgreSQL, across servers', () => {
  const [, postgres] = TEST_DIALECTS;
  let t: TestDb;
  let mine: StreamingState;
  let theirs: StreamingState;
  let theirPool: SqlDb;
  beforeEach(async () => {
    t = await postgres!.open();
    theirPool = openPostgresDb(t.address);
    mine = new StreamingState(t.db);
    theirs = new StreamingState(theirPool);
    await Promise.all([mine.ready(), theirs.ready()]);
  });
  afterEach(async () => {
    await theirPool.close();
    await t.cleanup();
  });

  it('skips a task whose pass another server runs, and runs it once that one has ended', async () => {
    const inside = gate();
    const finish = gate();
    const first = mine.exclusivePass('task', async () => {
      inside.open();
      await finish.opened;
      return 'mine';
    });
    try {
      await inside.opened;
      expect(await theirs.exclusivePass('task', async () => 'theirs')).toBeUndefined();
      // Other tasks are not held up.
      expect(await theirs.exclusivePass('other', async () => 'theirs')).toBe('theirs');
    } finally {
      finish.open();
    }
    expect(await first).toBe('mine');
    expect(await theirs.exclusivePass('task', async () => 'theirs')).toBe('theirs');
  });

  it('frees the pass of a server whose connection died (kill -9) for the next server', async () => {
    const inside = gate();
    const finish = gate();
    const dying = mine.exclusivePass('task', async () => {
      inside.open();
      await finish.opened;
    });
    try {
      await inside.opened;
      // What the server sees when the holder's process is killed: its session ends. With a
      // timeout, pg_terminate_backend returns once the backend has exited (its locks with it).
      await theirPool.run(
        `SELECT pg_terminate_backend(pid, 60000) FROM pg_locks
         WHERE locktype = 'advisory'
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(await theirs.exclusivePass('task', async () => 'theirs')).toBe('theirs');
    } finally {
      finish.open();
    }
    await expect(dying).rejects.toThrow();
  });
});

describe('a cloak.db from before exactly-once passes', () => {
  it('opens with its users and gains the pass columns', async () => {
    const [sqlite] = TEST_DIALECTS;
    const t = await sqlite!.open();
    try {
      await t.db.exec(`
        CREATE TABLE streaming_tasks (task_key TEXT PRIMARY KEY, org_id TEXT NOT NULL,
          next_seq INTEGER NOT NULL, last_report TEXT);
        CREATE TABLE streaming_users (task_key TEXT NOT NULL, user_id TEXT NOT NULL,
          properties TEXT NOT NULL, error TEXT, accumulator TEXT, updated_at INTEGER NOT NULL,
          PRIMARY KEY (task_key, user_id)) WITHOUT ROWID;
        INSERT INTO streaming_tasks VALUES ('task', 'org', 4, NULL);
        INSERT INTO streaming_users VALUES ('task', 'a', '[]', NULL, '5', 100);`);
      const state = new StreamingState(t.db);
      expect(await state.position('task')).toEqual({ nextSeq: 4, passTarget: null });
      expect((await state.storedUsers('task', ['a'])).users).toEqual([
        { userId: 'a', accumulator: '5', throughSeq: null },
      ]);
      expect(await appliedVersions(t.db, STREAMING_COMPONENT)).toEqual([1, 2]);
    } finally {
      await t.cleanup();
    }
  });
});
