// Public surface of src/errors: the catalogue, the AppError that carries its codes, and full-disk detection.
export { ERROR_CATALOGUE, type ErrorCode, type ErrorEntry } from './catalogue.ts';
export { AppError, formatTemplate, templateParameters, type ErrorParams } from './app-error.ts';
export { diskFullError, isDiskFull } from './disk-full.ts';
