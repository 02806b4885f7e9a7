/**
 * The "Where the remaining microseconds go" section of docs/benchmarks.md: what `node
 * --cpu-prof` of the in-process HTTP worker (workers/inject-apps.ts) and a loop of FileStore
 * flushes showed. Written by hand from profiles (a benchmark run does not profile), so it
 * says when and how it was taken; regenerate the figures when the hot path changes.
 */

/** Markdown lines of the section, without its heading. */
export const PROFILE_NOTES: readonly string[] = [
  'Taken on 2026-12-02 on the machine of the run above (2 shared cores, load average 6 to 12',
  'during the profiles, so every absolute figure is inflated alike; the shares are what to',
  'read). How: `node --cpu-prof --cpu-prof-interval=50` on `bench/dist/workers/inject-apps.js`',
  'driven with one variant at a time (40,000 requests), and on a loop that changes one counter',
  'and one histogram series per event-loop turn of a FileStore (200,000 turns).',
  '',
  '- **FileStore, the end-of-turn flush.** 47% of the flush loop is the flush; of the flush,',
  '  74% is the `pwrite` system call itself (`writeBuffer`), 11% the series-check refresh',
  '  (series-check.ts), the rest the JavaScript around them. A `pwrite` of 8 bytes to 3 KiB',
  '  costs 1.1 to 1.4 µs of CPU on this VM (median of 9 rounds of 20,000: 8 B 1.41 µs, 64 B',
  '  1.26, 1 KiB 1.42, 3 KiB 1.43, 4 KiB 1.82, 8 KiB 2.21 µs): the size hardly matters below',
  '  a page, so writing fewer bytes of the dirty 1 KiB blocks saves about 0.1 µs, and Node has',
  '  no cheaper path to a file than `fs.writeSync` (its argument checks are 3% of the flush).',
  '  One system call per event-loop turn with changes is the price of the FileStore guarantee',
  '  (when a turn ends its values are in the file: another process scrapes them, and a SIGKILL',
  '  loses none), so at one request per turn the FileStore adds about 1.5 µs of CPU over the',
  '  MemoryStore on an idle core (3 µs measured under this load in a loop of `inc` + `observe`',
  '  per turn: 1.6 µs user, 1.5 µs system). With several requests per turn (any server under',
  '  load) the write is shared by all of them. The `over_floor` goal of 1.5 µs on the FileStore',
  '  at one request per turn is therefore out of reach by construction: the adapter alone',
  '  leaves less than 0.5 µs for the store.',
  '- **Express adapter.** Before: a wrapper on the Layer class ran for every layer of every',
  '  request (also in apps without metrics in the same process), allocated a closure per mount',
  '  and stored caches on the layer objects. Now (mount-hook.ts) the route is read at the end',
  '  of the request from `req.route`, which Express 4 and 5 keep, and only the layers that',
  '  mount a router at a path other than `/` get a wrapper of their own (a frame per request',
  '  inside such a mount). In the profile of ours on the MemoryStore, what is ours over the',
  "  floor is: the middleware's own code (metrics path test, state object, start time) about",
  "  1% of the request's CPU, the close listener with the record about 2.5% (the template",
  '  lookup 0.2%, the nested Maps of the instrumentation and the counter and histogram updates',
  '  the rest), the mount wrapper 0.2%. Under this load the per-request figures of all copies',
  '  are 1.5 to 2 times their idle values (bare: 82 µs idle, 108 to 145 µs in these runs).',
  '- **Koa and Fastify adapters** keep their state on the raw response and add one `close`',
  '  listener, like the floor: what is left over the floor is the record (label lookups,',
  '  counter `inc`, histogram `observe`, two clock reads), well under a microsecond on an idle',
  '  core.',
];
