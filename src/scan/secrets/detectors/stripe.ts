import type { Detector } from '../detector.ts';
import { isPlaceholder } from '../placeholder.ts';

export const stripeKey: Detector = {
  id: 'secret/stripe-live-key',
  severity: 'critical',
  title: 'Stripe live secret key',
  description:
    'A Stripe live-mode secret or restricted key (sk_live_/rk_live_). It moves real money. Roll the key in the Stripe dashboard now and load it from a secret store.',
  keywords: ['k_live_'],
  pattern: /\b[rs]k_live_[0-9A-Za-z]{20,247}\b/g,
  check: (secret) => !isPlaceholder(secret),
};
