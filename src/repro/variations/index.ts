import { clock } from './clock.ts';
import { env } from './env.ts';
import { home } from './home.ts';
import { hostname } from './hostname.ts';
import { locale } from './locale.ts';
import { order } from './order.ts';
import { path } from './path.ts';
import { tz } from './tz.ts';
import { umask } from './umask.ts';
import { user } from './user.ts';
import type { Variation, VariationName } from './variation.ts';

export type { BuildSetup, Machine, Variation, VariationName } from './variation.ts';

/** Every variation, in the order they are applied and reported. */
export const VARIATIONS: readonly Variation[] = [
  clock,
  tz,
  locale,
  umask,
  path,
  home,
  user,
  hostname,
  env,
  order,
];

export const VARIATION_NAMES: readonly VariationName[] = VARIATIONS.map((v) => v.name);
