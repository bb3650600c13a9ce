// Writes and reads Parquet with two independent implementations for
// tests/parquet/run_interop.sh: DuckDB (@duckdb/node-api) and arrow-rs
// (parquet-wasm, with apache-arrow for the in-memory table).
//   node interop.mjs write SEED_CSV IRIS_CSV OUT_DIR   every input variant
//   node interop.mjs read-duckdb FILE                  rows as CSV on stdout
//   node interop.mjs read-arrow FILE                   rows as CSV on stdout
//   node interop.mjs csv-to-parquet IN.csv OUT.parquet header|noheader  a table, v1 and v2 pages
//   node interop.mjs meta FILE                         codecs and encodings seen
import { DuckDBInstance } from '@duckdb/node-api';
import * as pw from 'parquet-wasm/node';
import { tableFromArrays, tableToIPC, tableFromIPC } from 'apache-arrow';
import fs from 'node:fs';

const [cmd, ...args] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = (s) => s.replace(/'/g, "''");

async function rows(sql) {
  const r = await con.runAndReadAll(sql);
  return r.getRows();
}

function csvCell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  return String(v);
}

if (cmd === 'write') {
  const [seedCsv, irisCsv, out] = args;
  const cols = Array.from({ length: 59 }, (_, i) => `column${String(i).padStart(2, '0')}`);
  await con.run(`CREATE TABLE seed AS SELECT (row_number() OVER ()) - 1 AS id, * FROM read_csv('${q(seedCsv)}', header=false)`);
  await con.run(`CREATE TABLE iris AS SELECT (row_number() OVER ()) + 1000 AS id, * FROM read_csv('${q(irisCsv)}', header=true)`);
  // Every codec, v1 and v2 pages (v2 brings DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
  // BYTE_STREAM_SPLIT), several row groups.
  for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw']) {
    for (const ver of ['V1', 'V2']) {
      await con.run(`COPY seed TO '${q(out)}/seed-duckdb-${codec}-${ver}.parquet' (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION ${ver}, ROW_GROUP_SIZE 2048)`);
      await con.run(`COPY iris TO '${q(out)}/iris-duckdb-${codec}-${ver}.parquet' (FORMAT parquet, COMPRESSION ${codec}, PARQUET_VERSION ${ver}, ROW_GROUP_SIZE 20)`);
    }
  }
  // Nulls: missing values (the iris model rejects them as scikit-learn does).
  await con.run(`COPY (SELECT id, CASE WHEN id % 7 = 0 THEN NULL ELSE petal_width END AS petal_width, note, sepal_length, petal_length, sepal_width FROM iris) TO '${q(out)}/iris-nulls.parquet' (FORMAT parquet)`);
  // Kept columns with nulls, dates, timestamps, decimals and strings.
  for (const ver of ['V1', 'V2']) {
    await con.run(`COPY (SELECT id, CASE WHEN id % 5 = 0 THEN NULL ELSE 'k' || id END AS key, DATE '2024-01-01' + CAST(id - 1000 AS INTEGER) AS day, TIMESTAMP '2024-01-01 12:00:00' + to_seconds(id - 1000) AS ts, CAST(id / 8 AS DECIMAL(10,3)) AS amount, id % 3 = 0 AS flag, * EXCLUDE (id) FROM iris) TO '${q(out)}/iris-typed${ver === 'V2' ? '-v2' : ''}.parquet' (FORMAT parquet, PARQUET_VERSION ${ver})`);
  }
  // A wide table: the model's 4 columns among 400 others.
  const extra = Array.from({ length: 400 }, (_, i) => `random() AS x${i}`).join(', ');
  await con.run(`COPY (SELECT ${extra}, * FROM iris) TO '${q(out)}/iris-wide.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30)`);
  // arrow-rs (parquet-wasm): dictionary and plain, v1 and v2, every codec, float64 columns.
  const seed = await rows(`SELECT * FROM seed ORDER BY id`);
  const arrays = { id: BigInt64Array.from(seed.map((r) => r[0])) };
  cols.forEach((c, j) => { arrays[c] = Float64Array.from(seed.map((r) => Number(r[j + 1]))); });
  const table = pw.Table.fromIPCStream(tableToIPC(tableFromArrays(arrays), 'stream'));
  const codecs = { uncompressed: pw.Compression.UNCOMPRESSED, snappy: pw.Compression.SNAPPY, gzip: pw.Compression.GZIP, zstd: pw.Compression.ZSTD, lz4_raw: pw.Compression.LZ4_RAW };
  for (const [name, codec] of Object.entries(codecs)) {
    for (const [ver, wv] of [['V1', pw.WriterVersion.V1], ['V2', pw.WriterVersion.V2]]) {
      for (const dict of [true, false]) {
        const props = new pw.WriterPropertiesBuilder().setCompression(codec).setWriterVersion(wv)
          .setDictionaryEnabled(dict).setMaxRowGroupSize(3000).build();
        const t = pw.Table.fromIPCStream(tableToIPC(tableFromArrays(arrays), 'stream'));
        fs.writeFileSync(`${out}/seed-arrow-${name}-${ver}-${dict ? 'dict' : 'plain'}.parquet`, pw.writeParquet(t, props));
      }
    }
  }
  table.free?.();
} else if (cmd === 'read-duckdb') {
  const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${q(args[0])}')`);
  console.log(r.columnNames().join(','));
  for (const row of r.getRows()) console.log(row.map(csvCell).join(','));
} else if (cmd === 'read-arrow') {
  const t = tableFromIPC(pw.readParquet(fs.readFileSync(args[0])).intoIPCStream());
  const names = t.schema.fields.map((f) => f.name);
  console.log(names.join(','));
  for (let i = 0; i < t.numRows; i++) console.log(names.map((n) => csvCell(t.getChild(n).get(i))).join(','));
} else if (cmd === 'csv-to-parquet') {
  // A CSV table as DuckDB types it (numbers, strings; empty fields as nulls), in row groups of 16
  // rows with v1 pages, and the same with v2 pages (DELTA encodings) beside it as OUT-v2.parquet.
  const [input, output, header] = args;
  for (const [ver, name] of [['V1', output], ['V2', output.replace(/\.parquet$/, '-v2.parquet')]]) {
    await con.run(`COPY (SELECT * FROM read_csv('${q(input)}', header=${header === 'header'})) TO '${q(name)}' (FORMAT parquet, PARQUET_VERSION ${ver}, ROW_GROUP_SIZE 16)`);
  }
} else if (cmd === 'meta') {
  const r = await rows(`SELECT DISTINCT compression, encodings FROM parquet_metadata('${q(args[0])}') ORDER BY ALL`);
  console.log(r.map((x) => x.join(':')).join(' '));
}
