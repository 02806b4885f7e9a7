/**
 * Files read in several chunks (bounded-read.ts): the parse skips the entry heads `readImage`
 * checked while chunks arrived and checks the rest itself. A file of three chunks must parse
 * as a parse that checks every head does, and a bad head anywhere (the first chunk, across a
 * chunk boundary, the last chunk, the very last entry) must make the file unreadable, also
 * when its entries were parsed and cached by an earlier read.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { READ_CHUNK_BYTES } from '../src/file-store/bounded-read.js';
import { FormatProblem, readHeader } from '../src/file-store/format.js';
import { FileStore } from '../src/file-store/index.js';
import { parseEntries, StoreFileReader } from '../src/file-store/reader.js';
import { counterOf, tempDir } from './file-store-helpers.js';

const JOBS = counterOf('jobs_total', ['k']);

/** Offsets of the entries of a store file image, in file order. */
function entryOffsets(bytes: Buffer): number[] {
  const header = readHeader(bytes);
  assert.ok(!(header instanceof FormatProblem));
  const offsets: number[] = [];
  for (let at = header.headerSize; at < header.used; at += bytes.readUInt32LE(at)) {
    offsets.push(at);
  }
  return offsets;
}

/** Values of `jobs_total` by key in a read of the file. */
function jobs(parsed: ReturnType<StoreFileReader['read']>): Record<string, number> {
  assert.ok(!(parsed instanceof FormatProblem), String((parsed as FormatProblem).message));
  const family = parsed.families.find((f) => f.descriptor.name === 'jobs_total');
  assert.ok(family !== undefined);
  return Object.fromEntries(
    family.series.map((s, i) => [s.key, family.data[family.starts[i]!] as number]),
  );
}

describe('files read in several chunks', () => {
  it('parse whole, and any bad entry head makes them unreadable', () => {
    const { dir, cleanup } = tempDir('promfork-read-chunks-');
    try {
      const writer = new FileStore({ dir, compactDeadProcesses: false });
      const count = 60_000;
      for (let i = 0; i < count; i++) writer.series(JOBS, [`k${i}`]).add(0, i);
      writer.flush();
      writer.close();
      const path = join(dir, writer.fileName);
      const good = readFileSync(path);
      const header = readHeader(good);
      assert.ok(!(header instanceof FormatProblem));
      assert.ok(header.used > 2 * READ_CHUNK_BYTES, `three chunks (${header.used} bytes)`);
      const whole = parseEntries('f', header, new Uint8Array(good));
      const want = jobs(whole);
      assert.equal(Object.keys(want).length, count);
      const reader = new StoreFileReader();
      assert.deepEqual(jobs(reader.read(dir, writer.fileName)), want);
      const offsets = entryOffsets(good);
      const last = offsets[offsets.length - 1] as number;
      const straddling = offsets.find((at) => at + 24 > READ_CHUNK_BYTES) as number;
      const places = {
        'first chunk': offsets[10] as number,
        'across the first boundary': straddling,
        'second chunk': offsets.find((at) => at > READ_CHUNK_BYTES + 4096) as number,
        'last chunk': offsets.find((at) => at > 2 * READ_CHUNK_BYTES + 4096) as number,
        'last entry': last,
      };
      for (const [where, at] of Object.entries(places)) {
        for (const damage of ['kind', 'slots'] as const) {
          const bad = Buffer.from(good);
          // An unknown kind below the skippable ones, or more slots than a series may have.
          if (damage === 'kind') bad[at + 4] = 9;
          else bad.writeUInt32LE(0xffff_ffff, at + 12);
          writeFileSync(path, bad);
          const cached = reader.read(dir, writer.fileName);
          assert.ok(cached instanceof FormatProblem, `${where}, ${damage}: cached reader`);
          const fresh = new StoreFileReader().read(dir, writer.fileName);
          assert.ok(fresh instanceof FormatProblem, `${where}, ${damage}: fresh reader`);
          writeFileSync(path, good);
          assert.deepEqual(jobs(reader.read(dir, writer.fileName)), want, `${where}: again`);
        }
      }
    } finally {
      cleanup();
    }
  });
});
