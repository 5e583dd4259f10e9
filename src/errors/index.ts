// Public surface of src/errors: the catalogue, the AppError that carries its codes, "a" or "an", and full-disk detection.
export { ERROR_CATALOGUE, type ErrorCode, type ErrorEntry } from './catalogue.ts';
export { AppError, formatTemplate, templateParameters, type ErrorParams } from './app-error.ts';
export { indefiniteArticle, withArticle } from './article.ts';
export { diskFullError, isDiskFull } from './disk-full.ts';
