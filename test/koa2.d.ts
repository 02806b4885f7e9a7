// Koa 2 is installed under the npm alias `koa2`; its API is typed like Koa 3's for the parts
// these tests use.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
