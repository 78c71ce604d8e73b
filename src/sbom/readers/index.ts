import type { Reader } from '../reader.ts';

/**
 * Every reader, in the order they are tried. Adding a format is adding a file
 * in this folder and a line here; no registration by import side effects.
 */
export const READERS: readonly Reader[] = [];
