// Public surface of src/anonymizer: pure anonymization of distinct-user bucket counts.
export {
  BucketAggregator,
  type AggregatedBucket,
  type BucketIdentity,
  type SerializedAggregate,
} from './aggregator.ts';
export { anonymize, isPublished, publishedCount, type SuppressionInput } from './anonymize.ts';
export { countNoiseSd } from './count-noise.ts';
export { noise } from './noise.ts';
export { NO_QUESTION } from './seeds.ts';
export {
  SUPPRESSION_LABEL,
  SUPPRESSION_VALUE,
  SUPPRESSION_IDENTITY,
  suppressionBucket,
  type IndexedMemberships,
  type UserMembership,
} from './suppression-bucket.ts';
export {
  DEFAULT_ANONYMIZER_SETTINGS,
  NOISELESS_SETTINGS,
  unchargedSettings,
  validateAnonymizerSettings,
  type AnonymizerSettings,
} from './settings.ts';
export { USER_KEY_BYTES, userKey, type UserKey } from './user-key.ts';
