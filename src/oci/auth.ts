/** Credentials for a registry. `docker-config` reads `~/.docker/config.json` `auths` (no helpers). */
export type RegistryAuth =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | {
      kind: 'docker-config';
      /** Path of config.json (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json). */
      path?: string | undefined;
    };
