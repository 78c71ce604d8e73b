import { arContainer } from './ar.ts';
import type { Container } from './container.ts';
import { directoryContainer } from './directory.ts';
import { tarContainer } from './tar.ts';
import { zipContainer } from './zip.ts';

export type { Container, Member, MemberMeta, MemberType, Node } from './container.ts';

/** Every container format, tried in order; the first whose detect() accepts a node lists it. */
export const CONTAINERS: readonly Container[] = [
  directoryContainer,
  zipContainer,
  arContainer,
  tarContainer,
];
