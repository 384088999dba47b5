// Writes NAME.br and NAME.gz beside every compressible file under a directory (the built
// site, target/site), for the server to send to browsers that accept them instead of the
// file itself (server/src/static_files.rs). Node's own zlib does the work: brotli at quality
// 11 with the largest standard window and gzip at level 9, or quicker settings with --fast
// (debug builds, whose WebAssembly is many times larger). A copy that would not be smaller
// than the file is not written, and copies left from files that are gone are removed.
//
//   node scripts/precompress.mjs [--fast] target/site
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const root = args.find((a) => !a.startsWith('--'));
if (!root) {
  console.error('usage: node scripts/precompress.mjs [--fast] DIR');
  process.exit(2);
}

// Text and WebAssembly; images and fonts are compressed already.
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.wasm', '.svg', '.html', '.json', '.map', '.txt', '.xml']);
// Below this, a compressed copy saves less than the headers that announce it.
const MIN_BYTES = 1024;

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.isFile() ? [p] : [];
  });
}

let raw = 0;
let br = 0;
let gz = 0;
for (const file of files(root)) {
  const ext = path.extname(file);
  if (ext === '.br' || ext === '.gz') {
    const original = file.slice(0, -ext.length);
    if (!fs.existsSync(original)) fs.rmSync(file);
    continue;
  }
  if (!COMPRESSIBLE.has(ext)) continue;
  const data = fs.readFileSync(file);
  if (data.length < MIN_BYTES) continue;
  const brotli = zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: fast ? 5 : 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: fast ? 22 : 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      [zlib.constants.BROTLI_PARAM_MODE]:
        ext === '.wasm' ? zlib.constants.BROTLI_MODE_GENERIC : zlib.constants.BROTLI_MODE_TEXT,
    },
  });
  const gzip = zlib.gzipSync(data, { level: fast ? 6 : 9 });
  for (const [suffix, copy] of [['.br', brotli], ['.gz', gzip]]) {
    if (copy.length < data.length) {
      fs.writeFileSync(file + suffix, copy);
    } else {
      fs.rmSync(file + suffix, { force: true });
    }
  }
  raw += data.length;
  br += Math.min(brotli.length, data.length);
  gz += Math.min(gzip.length, data.length);
}
const mb = (n) => (n / 1e6).toFixed(2);
console.log(`precompressed ${root}: ${mb(raw)} MB -> brotli ${mb(br)} MB, gzip ${mb(gz)} MB`);
