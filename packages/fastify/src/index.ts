/** Placeholder until the adapters land. */
export const PACKAGE_NAME = '@promfork/fastify';
