// Fastify 4 is installed under the npm alias `fastify4`; its API is typed like Fastify 5's for
// the parts these tests use.
declare module 'fastify4' {
  import fastify from 'fastify';
  export default fastify;
}
