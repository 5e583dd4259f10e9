// Messages read "an upload_any key" and "an organisation", not "a upload_any" or "a organisation".
import { describe, expect, it } from 'vitest';
import { AppError, formatTemplate } from './index.ts';
import { indefiniteArticle, withArticle } from './article.ts';

describe('the indefinite article of a filled-in word', () => {
  it('is "an" before a vowel sound and "a" before a consonant sound', () => {
    for (const word of ['upload_any', 'upload_user', 'air_service', 'organisation', 'analyst']) {
      expect(withArticle(word), word).toBe(`an ${word}`);
    }
    for (const word of ['web_api', 'task_runner', 'lookup table', 'user', 'unique name', 'one']) {
      expect(withArticle(word), word).toBe(`a ${word}`);
    }
    expect(indefiniteArticle('hour')).toBe('an');
    expect(indefiniteArticle('admin', 'A')).toBe('An');
  });

  it('is chosen where a template puts "a" or "A" right before a parameter', () => {
    expect(new AppError('NAME_TAKEN', { what: 'organisation', name: 'Acme' }).message).toBe(
      'An organisation named "Acme" already exists. Choose another name.',
    );
    expect(new AppError('NAME_TAKEN', { what: 'lookup table', name: 'zip' }).message).toMatch(
      /^A lookup table named "zip"/,
    );
    const wrong = new AppError('WRONG_KEY_TYPE', { required: 'upload_any', actual: 'web_api' });
    expect(wrong.message).toBe(
      'This endpoint needs an upload_any key, but the request was made with a web_api key. Create an upload_any key and use it instead.',
    );
    // Only a whole word "a": "via {x}" and "data {x}" keep their text.
    expect(formatTemplate('via {x}, data {x}, (a {x})', { x: 'upload' })).toBe(
      'via upload, data upload, (an upload)',
    );
  });
});
