// Public surface of src/errors: the catalogue and the AppError that carries its codes.
export { ERROR_CATALOGUE, type ErrorCode, type ErrorEntry } from './catalogue.ts';
export { AppError, formatTemplate, templateParameters, type ErrorParams } from './app-error.ts';
