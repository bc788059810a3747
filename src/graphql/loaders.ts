import DataLoader from 'dataloader';
import type { RequestContext } from '../context.js';

/**
 * Per-request dataloaders, defined by each module in its `loaders.ts` with `perRequest` and made on
 * first use: most operations (and every idle subscription, which holds its context for as long as
 * it lives) touch only a few of them. Every loader is scoped to the viewer's organization, so a
 * foreign id loads as null.
 */
export interface LoaderScope extends RequestContext {
  /** The loaders made so far in this request, by their factory. */
  loaders: Map<unknown, unknown>;
}

/** A module's loaders, made once per request (per context) on first use. */
export function perRequest<T>(make: (ctx: RequestContext) => T): (ctx: LoaderScope) => T {
  return (ctx) => {
    let made = ctx.loaders.get(make) as T | undefined;
    if (made === undefined) {
      made = make(ctx);
      ctx.loaders.set(make, made);
    }
    return made;
  };
}

/** An object whose properties are made on first use (a subscription touches one or two loaders of a module). */
export function lazily<T extends object>(make: { [K in keyof T]: () => T[K] }): T {
  const target = {} as T;
  for (const key of Object.keys(make) as (keyof T)[]) {
    Object.defineProperty(target, key, {
      configurable: true,
      enumerable: true,
      get() {
        const value = make[key]();
        Object.defineProperty(target, key, { value, enumerable: true, writable: false });
        return value;
      },
    });
  }
  return target;
}

/** Rows by id, one statement per batch of ids; a missing (or foreign) id loads as null. */
export function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const found = new Map((await load(ids)).map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** Values keyed by id from one map-returning statement per batch of ids; a missing id loads as `fallback`. */
export function fromMap<T, F>(load: (ids: readonly string[]) => Promise<Map<string, T>>, fallback: F) {
  return new DataLoader<string, T | F>(async (ids) => {
    const found = await load(ids);
    return ids.map((id) => found.get(id) ?? fallback);
  });
}

/** A subscription's context lives as long as it does: fresh loaders for every message, or nested fields go stale. */
export function freshLoaders(ctx: LoaderScope): void {
  ctx.loaders.clear();
}
