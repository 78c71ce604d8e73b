import type { Detector } from '../detector.ts';
import { isPlaceholder } from '../placeholder.ts';

export const googleApiKey: Detector = {
  id: 'secret/google-api-key',
  severity: 'high',
  title: 'Google API key',
  description:
    'A Google Cloud / Firebase API key (AIza…). Unrestricted keys bill the owner for any API they enable. Delete or restrict it (API and referrer/IP restrictions) in the Cloud console.',
  keywords: ['AIza'],
  pattern: /\bAIza[0-9A-Za-z_-]{35}/g,
  check: (secret, m, text) => {
    const after = text[(m.index ?? 0) + m[0].length];
    return !(after !== undefined && /[0-9A-Za-z_-]/.test(after)) && !isPlaceholder(secret);
  },
};
