import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The bundle `npm run build` writes (src/console/build.mjs); two levels up from src/plugins or dist/plugins. */
export const CONSOLE_ROOT = resolve(__dirname, '..', '..', 'dist', 'console');
export const CONSOLE_PREFIX = '/console';

/**
 * The live console: static files only. Everything it shows it reads through the public routes with
 * the signed-in key, so it has no privilege of its own. Its pages may load nothing but themselves
 * and talk only to this origin (CSP), and are never cached across builds.
 */
export async function consolePlugin(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? CONSOLE_ROOT;
  if (!existsSync(root)) {
    app.log.warn({ root }, 'the console is not built (npm run build): /console answers 404');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: `${CONSOLE_PREFIX}/`,
    cacheControl: false,
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
    },
  });
  // The page's relative links need the trailing slash.
  app.get(CONSOLE_PREFIX, { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(`${CONSOLE_PREFIX}/`, 301),
  );
}
