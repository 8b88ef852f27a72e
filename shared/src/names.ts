/** A frozen set of names, each its own value (`STATES.ready === 'ready'`), typed as literals. */
export function namesOf<const T extends string>(...names: T[]): { readonly [K in T]: K } {
  return Object.freeze(Object.fromEntries(names.map((name) => [name, name]))) as { readonly [K in T]: K };
}

/** The union of a names object's values. */
export type NameOf<T> = T[keyof T];
