/**
 * Fixed-length lists, so a case can write `const [alice, bob] = await stack.newUsers(2)` and
 * use `alice` and `bob` as they are: with noUncheckedIndexedAccess an array's elements are
 * "maybe undefined", a tuple's are not.
 */

/**
 * `N` elements of `T` as a tuple when `N` is a literal (`Tuple<User, 2>` = `[User, User]`), else
 * `T[]`. Distributed over a union (`Tuple<User, 1 | 2>` = `[User] | [User, User]`), which also
 * lets a function generic in `N` use the result as an array.
 */
export type Tuple<T, N extends number> = N extends N ? (number extends N ? T[] : Build<T, N, []>) : never;
type Build<T, N extends number, Acc extends T[]> = Acc["length"] extends N ? Acc : Build<T, N, [...Acc, T]>;

/** `list` as a tuple of `count` elements, checked: a list of another length is a bug in the support code. */
export function asTuple<T, N extends number>(list: T[], count: N): Tuple<T, N> {
  if (list.length !== count) throw new Error(`expected ${count} elements, got ${list.length}`);
  // The length was just checked; TypeScript cannot narrow an array's length by itself.
  return list as Tuple<T, N>;
}

/**
 * `Promise.all(items.map(f))` that keeps a tuple a tuple: `await allOf([owner, member], connect)`
 * is `[Client, Client]`, where Array.map would forget the length.
 */
export async function allOf<const T extends readonly unknown[], U>(
  items: T,
  f: (item: T[number], index: number) => Promise<U>,
): Promise<{ -readonly [K in keyof T]: U }> {
  const done = await Promise.all(items.map((item, i) => f(item, i)));
  // One result per item, in order: the mapped type says exactly that.
  return done as { -readonly [K in keyof T]: U };
}

/**
 * `list[index]` for an element the case has reason to expect (a frame it waited for, the
 * first of several pushes); a missing one fails the case with what was there instead.
 */
export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined)
    throw new Error(`expected an element at index ${index}, got ${list.length} elements`);
  return item;
}
