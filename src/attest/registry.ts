import type { Attestor } from './attestor.ts';
import { ciAttestor } from './ci.ts';
import { commandAttestor } from './command.ts';
import { environmentAttestor } from './environment.ts';
import { gitAttestor } from './git.ts';
import { imageDigestStampsAttestor, imagesAttestor } from './images.ts';
import { materialsAttestor } from './materials.ts';
import { productsAttestor } from './products.ts';

/**
 * Every attestor `vouch run` uses, in the order results are reported. Adding
 * one is a file and a line here; nothing registers itself on import. Kept
 * apart from index.ts so run.ts can default to it without an import cycle.
 */
export const ATTESTORS: readonly Attestor[] = [
  gitAttestor,
  ciAttestor,
  environmentAttestor,
  materialsAttestor,
  imageDigestStampsAttestor,
  productsAttestor,
  imagesAttestor,
  commandAttestor,
] as readonly Attestor[];
