// "a" or "an" before a word that a message fills in: an upload_any key, a user, an organisation.

/** Words that start with a vowel letter but a consonant sound: a user, a unique name, a one-off. */
const CONSONANT_SOUND = /^(?:u[b-df-hj-np-tv-z][aeiou]|eu|one(?![a-z])|once)/i;
/** Words that start with a consonant letter but a vowel sound: an hour. */
const VOWEL_SOUND = /^(?:hour|honest|honou?r)/i;

/** The indefinite article for `word`, capitalised like `like` ("a" or "A"). */
export function indefiniteArticle(word: string, like = 'a'): string {
  const vowel = VOWEL_SOUND.test(word) || (/^[aeiou]/i.test(word) && !CONSONANT_SOUND.test(word));
  const article = vowel ? 'an' : 'a';
  return like === 'A' ? `A${article.slice(1)}` : article;
}

/** `word` after its indefinite article: "an upload_any", "a task_runner". */
export function withArticle(word: string): string {
  return `${indefiniteArticle(word)} ${word}`;
}
