import type { Detector } from '../detector.ts';
import { isPlaceholder } from '../placeholder.ts';

/** Passwords every tutorial uses: with them the URL documents a set-up, it does not leak one. */
const DEFAULT_PASSWORDS = new Set([
  'password',
  'passwd',
  'pass',
  'secret',
  'postgres',
  'root',
  'admin',
  'guest',
  'test',
  'user',
  'mysql',
  'redis',
  'pwd',
]);

export const databaseUrlPassword: Detector = {
  id: 'secret/database-url-password',
  severity: 'high',
  title: 'Database URL with a password',
  description:
    'A database or broker connection URL with a password in it (postgres://user:<password>@host/…). Change the password and pass the URL through the environment or a secret store.',
  keywords: ['://'],
  pattern:
    /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver):\/\/[^\s:/@"'<>]{1,64}:([^\s:/@"'<>]{1,128})@([^\s/"'<>:?]{1,253})/g,
  group: 1,
  check: (secret, m) => {
    const host = (m[2] ?? '').toLowerCase();
    if (
      /^(?:localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0)$|(?:^|\.)example\.(?:com|org|net)$/.test(host)
    ) {
      return false;
    }
    return !DEFAULT_PASSWORDS.has(secret.toLowerCase()) && !isPlaceholder(secret);
  },
};
