export type { FsNode } from './fs.ts';
export {
  DEFAULT_IMAGE_LIMITS,
  type Image,
  type ImageLayer,
  type ImageLimits,
  type ImageOptions,
  openImage,
} from './open.ts';
export { parseOsRelease } from './os-release.ts';
