// Zod shapes as JSON Schema 2020-12 (OpenAPI 3.1's dialect); named shapes become $refs.
import { z } from 'zod';

const names = new Map<z.ZodType, string>();

/**
 * Names a shape: each description lists it once, as components.schemas.<name>, and refers to it
 * wherever it appears, so that generated clients get a type of that name (Task, Run, ...).
 */
export function named<T extends z.ZodType>(name: string, shape: T): T {
  names.set(shape, name);
  return shape;
}

export function nameOf(shape: z.ZodType): string {
  const name = names.get(shape);
  if (name === undefined) throw new Error('nameOf: the shape was not named with named()');
  return name;
}

/** The placeholder id of the shape being rendered, among the named ones. */
const RENDERED = '__rendered';

/**
 * Rendered shapes, by shape and direction, while no shape has been named since: rendering is
 * about 70 ms of each server start's CPU (its routes' shapes), and the same every time. Callers
 * get a copy, as fastify keeps (and may annotate) what it is given.
 */
const rendered = new WeakMap<z.ZodType, { names: number; input?: object; output?: object }>();

/** The shape written out, its named parts as `{"$ref": "<name>#"}`. */
function render(shape: z.ZodType, io: 'input' | 'output') {
  let entry = rendered.get(shape);
  if (entry?.names !== names.size) rendered.set(shape, (entry = { names: names.size }));
  entry[io] ??= renderAnew(shape, io);
  return structuredClone(entry[io]) as ReturnType<typeof renderAnew>;
}

function renderAnew(shape: z.ZodType, io: 'input' | 'output') {
  const registry = z.registry<{ id: string }>();
  for (const [other, name] of names) if (other !== shape) registry.add(other, { id: name });
  registry.add(shape, { id: RENDERED });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `${id}#`,
  });
  const { $schema: _dialect, $id: _id, ...rest } = schemas[RENDERED]!;
  return rest;
}

/** A request or response shape: a $ref when the shape is named, else written out. */
export function jsonSchema(shape: z.ZodType, io: 'input' | 'output' = 'output') {
  const name = names.get(shape);
  return name !== undefined ? { $ref: `${name}#` } : render(shape, io);
}

/** A named shape written out, for the description's components. */
export function componentSchema(shape: z.ZodType) {
  return { $id: nameOf(shape), ...render(shape, 'output') };
}
