// node seed_to_parquet.mjs IN.csv OUT.parquet: the seed file (no header, 59 integer columns) as
// Parquet, the way a data lake holds it: DuckDB's defaults (INT64 columns, dictionary or plain
// pages, v1) with zstd, row groups of 122,880 rows. Run by bench/run.sh from the npm folder that
// tests/parquet/run_interop.sh installs (@duckdb/node-api).
import { DuckDBInstance } from '@duckdb/node-api';
const [input, output] = process.argv.slice(2);
const q = (s) => s.replace(/'/g, "''");
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`COPY (SELECT * FROM read_csv('${q(input)}', header=false)) TO '${q(output)}' (FORMAT parquet, COMPRESSION zstd)`);
