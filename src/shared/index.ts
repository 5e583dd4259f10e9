// Public surface of src/shared: types both sides of the trust boundary may use.
export * from './types.ts';
