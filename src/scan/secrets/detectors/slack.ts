import type { Detector } from '../detector.ts';
import { isPlaceholder } from '../placeholder.ts';

export const slackToken: Detector = {
  id: 'secret/slack-token',
  severity: 'high',
  title: 'Slack token',
  description:
    'A Slack bot, user, app or refresh token (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxo-). It reads and posts as its owner. Revoke it in the app settings (or with auth.revoke) and keep it in a secret store.',
  keywords: ['xox'],
  pattern: /\bxox[abposr]-[0-9A-Za-z-]{10,250}/g,
  // Real tokens carry numeric team/user ids; `xoxb-your-token-here` does not.
  check: (secret) => /[0-9]{6}/.test(secret) && !isPlaceholder(secret),
};
