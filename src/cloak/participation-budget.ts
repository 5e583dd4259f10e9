// The participation budget: how much fresh noisy information about one user one organisation gets.
import { NO_QUESTION, type AnonymizerSettings, type UserKey } from '../anonymizer/index.ts';
import type { BudgetNotice, BudgetState } from '../shared/index.ts';
import type { SqlDb } from '../store/index.ts';
import type { BudgetLedger } from './budget-account.ts';
import { budgetNotice } from './budget-disclosure.ts';
import { DisclosureLog, type TakenNotice } from './budget-disclosure-log.ts';
import { BudgetStore } from './budget-ledger.ts';
import { settleRun, type SettleInput, type Settlement } from './budget-settlement.ts';
import { ParticipationRun } from './participation-run.ts';
import type { UserLogOptions } from './user-log.ts';

export { ParticipationRun } from './participation-run.ts';
export type { SettledBucket, Settlement } from './budget-settlement.ts';

/*
 * Why. Sticky noise stops averaging one bucket, but every bucket with another user set or label
 * draws fresh noise, and an analyst can write one task (or many) that puts a victim into hundreds
 * of buckets whose other members are known: label minting, accomplice averaging, random-subset
 * reconstruction (test/attacks/). Each fresh draw of sd `s` tells the analyst about one user what
 * a Gaussian mechanism of sensitivity 1 does, a zCDP loss of 1 / (2 s^2); the losses add up.
 *
 * What. Per (organisation, user) the cloak keeps the loss spent so far. A bucket above the
 * absolute floor that this organisation has never been shown (a new pair of bucket identity and
 * user set) costs each member 1 / (2 sd^2), sd the anonymizer's count-noise sd at the count that
 * is published (not the count that asked: budget-settlement.ts): small buckets (sd 3) cost 0.056,
 * a bucket of 10,000 users (sd 33) 0.00045. The suppression bucket "*" is charged the same way. A
 * user who cannot afford a fresh bucket is exhausted from then on: left out of every fresh bucket
 * of this organisation (still counted in buckets it has already been shown, so that reruns match).
 *
 * Sticky reruns cost nothing. A bucket is known by a hash of its identity and the fingerprint of
 * the users who reported it, with the position (run, index) at which it was first settled. When
 * the same bucket comes again, the users exhausted before that position are left out again and
 * nobody is charged: the same task over the same data publishes the same result for free.
 *
 * Order. Fresh buckets of a run are settled in the order of their hash, which depends on the
 * installation secret (through the user keys), so an analyst cannot choose which of a user's
 * buckets the budget keeps.
 *
 * Periods. By default the budget never renews. An operator may set a period (privacy.
 * budgetPeriodDays): then every (organisation, user) starts each period with the whole budget
 * again, and buckets settled in an earlier period are fresh (charged) again. The guarantee is then
 * per period, not for ever (docs/anonymization.md, "Budget periods").
 *
 * Disclosure. Each run also publishes noisy counts of the users it left out and of the users who
 * have run out (budget-disclosure.ts), so that counts are never low without the answer saying so.
 * Every notice is logged (budget-disclosure-log.ts): the organisation's budget state shows them.
 *
 * Previews. A cost preview settles the run exactly as a run would, inside a savepoint that is
 * rolled back: nobody's spending, no bucket memory and no result change. Its notice is published
 * all the same, so the number it took (its k) is kept: notice numbers are taken when a run or
 * preview starts, outside every settlement (see BudgetStore.takeNotice for why), and the notice is
 * logged after the rollback. A preview therefore costs what any notice costs, and a run after it
 * is settled as if the preview had not happened (except for its own k).
 *
 * Everything is settled in one step after the sandbox has run every user, in one transaction per
 * organisation (BudgetStore.settle: BEGIN IMMEDIATE on SQLite, a per-organisation lock on
 * PostgreSQL), so two runs of one organisation cannot interleave their charges, even from two
 * servers. Given the prices, a
 * user's charges depend only on their own state and buckets, taken in that order, so each pass
 * goes user by user (a few hundred per statement) and memory stays per bucket, not per user.
 */

const DAY_MS = 86_400_000;

export interface ParticipationBudgetOptions extends UserLogOptions {
  /** Total zCDP-like loss per (organisation, user) for buckets; see docs/anonymization.md. */
  rho: number;
  /** The installation's noise secret: keys the disclosures' noise. */
  secret: Uint8Array;
  /** Days after which every budget renews (periods start at multiples of it since 1970); 0: never. */
  periodDays?: number;
  /** The clock, for tests of periods. */
  now?: () => number;
  /** Users per page past which pages split (budget-pages.ts); tests set it small. */
  pageSplitRecords?: number;
}

/** A settlement and what the run says about the budget. */
export interface BudgetedSettlement extends Settlement {
  notice: BudgetNotice;
}

/** Thrown inside a preview's savepoint, to roll back everything its settlement wrote. */
const ROLL_BACK = Symbol('roll back the preview');

/** The budget of every (organisation, user), in the cloak's database (SQLite or PostgreSQL). */
export class ParticipationBudget {
  readonly #store: BudgetStore;
  readonly #disclosures: DisclosureLog;

  constructor(
    db: SqlDb,
    readonly options: Readonly<ParticipationBudgetOptions>,
  ) {
    if (!(options.rho > 0) || !Number.isFinite(options.rho)) {
      throw new RangeError(
        `the participation budget must be a finite number > 0, got ${options.rho}`,
      );
    }
    const periodDays = options.periodDays ?? 0;
    if (!(Number.isInteger(periodDays) && periodDays >= 0)) {
      throw new RangeError(
        `the budget period must be a whole number of days >= 0, got ${periodDays}`,
      );
    }
    this.#store = new BudgetStore(db, () => this.period(), options.pageSplitRecords);
    this.#disclosures = new DisclosureLog(db);
  }

  /** Resolves when the budget's tables are ready (migrated); every method waits for it anyway. */
  ready(): Promise<void> {
    return this.#store.ready();
  }

  /** The current budget period: 0 when the budget never renews. */
  period(): number {
    const days = this.options.periodDays ?? 0;
    return days === 0 ? 0 : Math.floor((this.options.now ?? Date.now)() / (days * DAY_MS));
  }

  /** When the current period ends, or undefined when the budget never renews. */
  renewsAt(): number | undefined {
    const days = this.options.periodDays ?? 0;
    return days === 0 ? undefined : (this.period() + 1) * days * DAY_MS;
  }

  /**
   * Collects one run's contributions; `settle` then charges the budget and builds the aggregate.
   * With the noise secret it also settles the suppression bucket, which needs to know what is
   * published (task runs; streaming reports have no suppression bucket).
   */
  async startRun(
    orgId: string,
    settings: Readonly<AnonymizerSettings>,
    secret?: Uint8Array,
    question: Uint8Array = NO_QUESTION,
  ): Promise<ParticipationRun<BudgetedSettlement>> {
    const taken = await this.#takeNotice(orgId);
    return this.#collect(orgId, settings, secret, question, (input) =>
      this.#store.settle(orgId, async (ledger, tx) => {
        const settlement = await settleRun(ledger, input);
        const notice = budgetNotice(
          this.options.secret,
          await this.#noticeInput(ledger, taken, settlement),
        );
        await this.#disclosures.record(tx, orgId, taken, 'run', notice);
        return { ...settlement, notice };
      }),
    );
  }

  /**
   * The same collection for a cost preview: `settle` charges nothing and returns only the notice
   * the run would publish (its figures are fresh noisy counts, paid for with the k it took).
   */
  async startPreview(
    orgId: string,
    settings: Readonly<AnonymizerSettings>,
    secret: Uint8Array,
    question: Uint8Array = NO_QUESTION,
  ): Promise<ParticipationRun<BudgetNotice>> {
    const taken = await this.#takeNotice(orgId);
    return this.#collect(orgId, settings, secret, question, (input) =>
      this.#store.settle(orgId, async (ledger, tx) => {
        let notice: BudgetNotice | undefined;
        try {
          await ledger.tentatively(async () => {
            const settlement = await settleRun(ledger, input);
            notice = budgetNotice(this.options.secret, {
              ...(await this.#noticeInput(ledger, taken, settlement)),
              preview: true,
            });
            throw ROLL_BACK;
          });
        } catch (error) {
          if (error !== ROLL_BACK) throw error;
        }
        await this.#disclosures.record(tx, orgId, taken, 'preview', notice!);
        return notice!;
      }),
    );
  }

  #collect<S>(
    orgId: string,
    settings: Readonly<AnonymizerSettings>,
    secret: Uint8Array | undefined,
    question: Uint8Array,
    settle: (input: SettleInput) => Promise<S>,
  ): ParticipationRun<S> {
    return new ParticipationRun(
      (collected) => {
        const input = { orgId, rho: this.options.rho, settings, collected, question };
        return settle(secret ? { ...input, secret } : input);
      },
      this.options.memoryBytes === undefined ? {} : { memoryBytes: this.options.memoryBytes },
    );
  }

  /**
   * The notice's numbers and the moment the run started, which the analyst knows (the moment it
   * settled would say how long the run took).
   */
  async #takeNotice(orgId: string): Promise<TakenNotice> {
    const numbers = await this.#store.takeNotice(orgId);
    return { ...numbers, orgId, at: this.#now() };
  }

  /**
   * A run that started in one period and settles in the next keeps its k from the first: its
   * figures are the new period's, so that period pays one notice more than its schedule says.
   */
  async #noticeInput(ledger: BudgetLedger, taken: TakenNotice, { leftOut, run }: Settlement) {
    return {
      orgId: taken.orgId,
      periodRun: taken.periodRun,
      seq: taken.seq,
      leftOut,
      exhausted: await ledger.exhaustedCount(taken.orgId, run.period),
      renewsAt: this.renewsAt(),
    };
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * What the organisation may see of its budget: settings, its notices in this period and the
   * latest of them (already published, so free to show again; never a fresh count).
   */
  async state(orgId: string, limit: number): Promise<BudgetState> {
    return this.#disclosures.state(
      orgId,
      {
        rho: this.options.rho,
        periodDays: this.options.periodDays ?? 0,
        renewsAt: this.renewsAt(),
        runsThisPeriod: await this.#store.runsThisPeriod(orgId),
      },
      limit,
    );
  }

  /** The loss spent by one user (by user key) in this period, for tests and operators. */
  spent(orgId: string, user: UserKey): Promise<number> {
    return this.#store.spent(orgId, user);
  }
}
