#include "runner/job_db.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <span>
#include <type_traits>
#include <variant>

#include "runner/manifest.h"

namespace fb {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY, name TEXT, state TEXT, created_at TEXT, updated_at TEXT,
  spec TEXT, host TEXT, supervisor_pid INTEGER DEFAULT 0, exit_code INTEGER DEFAULT -1,
  files_total INTEGER DEFAULT 0, seconds REAL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tasks(
  job TEXT, idx INTEGER, state TEXT, attempts INTEGER, pid INTEGER, exit_code INTEGER,
  signal INTEGER, files INTEGER, started_at TEXT, finished_at TEXT, log TEXT,
  PRIMARY KEY(job, idx));
CREATE TABLE IF NOT EXISTS attempts(
  job TEXT, idx INTEGER, attempt INTEGER, pid INTEGER, exit_code INTEGER, signal INTEGER,
  started_at TEXT, finished_at TEXT, PRIMARY KEY(job, idx, attempt));
CREATE TABLE IF NOT EXISTS files(
  job TEXT, relative TEXT, task INTEGER, state TEXT, rows INTEGER DEFAULT 0,
  attempts INTEGER DEFAULT 0, error TEXT DEFAULT '', seconds REAL DEFAULT 0,
  output TEXT DEFAULT '', sha256 TEXT DEFAULT '', updated_at TEXT,
  PRIMARY KEY(job, relative));
CREATE TABLE IF NOT EXISTS runs(
  job TEXT, run INTEGER, started_unix REAL, finished_unix REAL DEFAULT 0, seconds REAL DEFAULT 0,
  state TEXT, done INTEGER DEFAULT 0, failed INTEGER DEFAULT 0, rows INTEGER DEFAULT 0,
  PRIMARY KEY(job, run));
CREATE TABLE IF NOT EXISTS estimates(job TEXT PRIMARY KEY, estimate TEXT);
)sql";

// A prepared statement that binds by position and finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& Bind(const std::string& v) {
    sqlite3_bind_text(s_, ++n_, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(const char* v) { return Bind(std::string(v)); }
  Stmt& Bind(int64_t v) {
    sqlite3_bind_int64(s_, ++n_, v);
    return *this;
  }
  Stmt& Bind(int v) { return Bind(static_cast<int64_t>(v)); }
  Stmt& Bind(uint64_t v) { return Bind(static_cast<int64_t>(v)); }
  Stmt& Bind(double v) {
    sqlite3_bind_double(s_, ++n_, v);
    return *this;
  }
  // A state is stored by its name (runner/states.h).
  template <class E>
  requires std::is_enum_v<E> Stmt& Bind(E state) { return Bind(StateName(state)); }
  // Runs to completion (no rows expected).
  Status Run() {
    if (rc_ != SQLITE_OK) return Err();
    int rc = sqlite3_step(s_);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Err();
    return Status::Ok();
  }
  // Steps; true while there is a row.
  Result<bool> Next() {
    if (rc_ != SQLITE_OK) return Err();
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Err();
  }
  std::string Text(int i) {
    auto p = sqlite3_column_text(s_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t Int(int i) { return sqlite3_column_int64(s_, i); }
  double Real(int i) { return sqlite3_column_double(s_, i); }

 private:
  Status Err() { return IoError(std::string("job database: ") + sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
  int n_ = 0;
};

// The state named in column `i` of the current row; InvalidData naming it
// when it is none this version knows.
template <class E>
Result<E> ReadStateAt(Stmt& s, int i) {
  Result<E> state = ReadState<E>(s.Text(i));
  if (!state.ok()) return InvalidData("job database: " + state.status().message());
  return state;
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A record's columns in table order, each with the field it fills: the one
// place that says which column is which, for SELECT lists, reading rows and
// binding a whole record.
template <class R>
struct Column {
  const char* name;
  std::variant<std::string R::*, int64_t R::*, uint64_t R::*, int R::*, double R::*, JobState R::*,
               TaskState R::*, FileState R::*>
      field;
};

constexpr Column<JobRecord> kJobColumns[] = {
    {"id", &JobRecord::id},
    {"name", &JobRecord::name},
    {"state", &JobRecord::state},
    {"created_at", &JobRecord::created_at},
    {"updated_at", &JobRecord::updated_at},
    {"spec", &JobRecord::spec_json},
    {"host", &JobRecord::host},
    {"supervisor_pid", &JobRecord::supervisor_pid},
    {"exit_code", &JobRecord::exit_code},
    {"files_total", &JobRecord::files_total},
    {"seconds", &JobRecord::seconds},
};
constexpr Column<TaskRecord> kTaskColumns[] = {
    {"idx", &TaskRecord::index},
    {"state", &TaskRecord::state},
    {"attempts", &TaskRecord::attempts},
    {"pid", &TaskRecord::pid},
    {"exit_code", &TaskRecord::exit_code},
    {"signal", &TaskRecord::signal},
    {"files", &TaskRecord::files},
    {"started_at", &TaskRecord::started_at},
    {"finished_at", &TaskRecord::finished_at},
    {"log", &TaskRecord::log},
};
constexpr Column<AttemptRecord> kAttemptColumns[] = {
    {"idx", &AttemptRecord::index},
    {"attempt", &AttemptRecord::attempt},
    {"pid", &AttemptRecord::pid},
    {"exit_code", &AttemptRecord::exit_code},
    {"signal", &AttemptRecord::signal},
    {"started_at", &AttemptRecord::started_at},
    {"finished_at", &AttemptRecord::finished_at},
    {"user_seconds", &AttemptRecord::user_seconds},
    {"sys_seconds", &AttemptRecord::sys_seconds},
};
constexpr Column<FileRecord> kFileColumns[] = {
    {"relative", &FileRecord::relative}, {"state", &FileRecord::state},
    {"error", &FileRecord::error},       {"output", &FileRecord::output},
    {"sha256", &FileRecord::sha256},     {"task", &FileRecord::task},
    {"attempts", &FileRecord::attempts}, {"rows", &FileRecord::rows},
    {"seconds", &FileRecord::seconds},   {"updated_unix", &FileRecord::updated_unix},
};
constexpr Column<RunRecord> kRunColumns[] = {
    {"run", &RunRecord::run},
    {"started_unix", &RunRecord::started_unix},
    {"finished_unix", &RunRecord::finished_unix},
    {"seconds", &RunRecord::seconds},
    {"state", &RunRecord::state},
    {"done", &RunRecord::done},
    {"failed", &RunRecord::failed},
    {"rows", &RunRecord::rows},
};

// "a, b, ..." : the record's column names.
template <class R>
std::string ColumnList(std::span<const Column<R>> cols) {
  std::string list;
  for (size_t i = 0; i < cols.size(); ++i) list += (i ? ", " : "") + std::string(cols[i].name);
  return list;
}

// "SELECT a, b, ... FROM <rest>" over the record's columns.
template <class R>
std::string SelectSql(std::span<const Column<R>> cols, const char* rest) {
  return "SELECT " + ColumnList(cols) + " FROM " + rest;
}

// Binds every column of `r`, in table order, after what `s` has bound.
template <class R>
Stmt& BindRow(Stmt& s, const R& r, std::span<const Column<R>> cols) {
  for (const Column<R>& c : cols) std::visit([&](auto field) { s.Bind(r.*field); }, c.field);
  return s;
}

// The current row of `s`, selected by SelectSql over the same columns;
// InvalidData naming it when a state is none this version knows.
template <class R>
Result<R> ReadRow(Stmt& s, std::span<const Column<R>> cols) {
  R r;
  Status bad = Status::Ok();
  for (size_t i = 0; i < cols.size(); ++i) {
    const int at = static_cast<int>(i);
    std::visit(
        [&](auto field) {
          auto& v = r.*field;
          using T = std::remove_reference_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            v = s.Text(at);
          } else if constexpr (std::is_enum_v<T>) {
            Result<T> state = ReadStateAt<T>(s, at);
            if (state.ok()) {
              v = *state;
            } else if (bad.ok()) {
              bad = state.status();
            }
          } else if constexpr (std::is_floating_point_v<T>) {
            v = s.Real(at);
          } else {
            v = static_cast<T>(s.Int(at));
          }
        },
        cols[i].field);
  }
  FB_RETURN_IF_ERROR(bad);
  return r;
}

// Every row of `s`.
template <class R>
Result<std::vector<R>> ReadRows(Stmt& s, std::span<const Column<R>> cols) {
  std::vector<R> out;
  for (;;) {
    FB_ASSIGN_OR_RETURN(bool row, s.Next());
    if (!row) break;
    FB_ASSIGN_OR_RETURN(R r, ReadRow(s, cols));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<JobDb>> JobDb::Open(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return IoError("cannot create state folder: " + ec.message()).At(state_dir);
  const std::string path = state_dir + "/jobs.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open job database: " + msg).At(path);
  }
  sqlite3_busy_timeout(db, 30000);
  std::unique_ptr<JobDb> j(new JobDb(db));
  FB_RETURN_IF_ERROR(j->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  FB_RETURN_IF_ERROR(j->Exec(kSchema));
  FB_RETURN_IF_ERROR(j->Migrate());
  return j;
}

Result<std::unique_ptr<JobDb>> JobDb::OpenReadOnly(const std::string& state_dir) {
  const std::string path = state_dir + "/jobs.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound("no job records in " + state_dir);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open job database: " + msg).At(path);
  }
  sqlite3_busy_timeout(db, 30000);
  return std::unique_ptr<JobDb>(new JobDb(db));
}

JobDb::~JobDb() { sqlite3_close(db_); }

Status JobDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return IoError("job database: " + msg);
  }
  return Status::Ok();
}

Status JobDb::Migrate() {
  struct Column {
    const char* table;
    const char* name;
    const char* decl;
  };
  static constexpr Column kAdded[] = {{"attempts", "user_seconds", "REAL DEFAULT 0"},
                                      {"attempts", "sys_seconds", "REAL DEFAULT 0"},
                                      {"files", "updated_unix", "REAL DEFAULT 0"}};
  for (const Column& c : kAdded) {
    Stmt s(db_, "SELECT count(*) FROM pragma_table_info(?) WHERE name=?");
    s.Bind(c.table).Bind(c.name);
    FB_ASSIGN_OR_RETURN(bool row, s.Next());
    if (row && s.Int(0) > 0) continue;
    Status st = Exec(std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.name + " " + c.decl);
    // Another process opening the same database may have added it meanwhile.
    if (!st.ok() && st.ToString().find("duplicate column") == std::string::npos) return st;
  }
  return Status::Ok();
}

Status JobDb::CreateJob(const JobRecord& j) {
  return Stmt(db_,
              "INSERT INTO jobs(id, name, state, created_at, updated_at, spec, host, supervisor_pid, "
              "files_total)"
              " VALUES(?,?,?,?,?,?,?,?,?)")
      .Bind(j.id)
      .Bind(j.name)
      .Bind(j.state)
      .Bind(UtcNow())
      .Bind(UtcNow())
      .Bind(j.spec_json)
      .Bind(j.host)
      .Bind(j.supervisor_pid)
      .Bind(j.files_total)
      .Run();
}

Status JobDb::UpdateJob(const std::string& id, JobState state, int exit_code, double seconds) {
  return Stmt(db_, "UPDATE jobs SET state=?, exit_code=?, seconds=?, updated_at=? WHERE id=?")
      .Bind(state)
      .Bind(exit_code)
      .Bind(seconds)
      .Bind(UtcNow())
      .Bind(id)
      .Run();
}

Status JobDb::SetSupervisor(const std::string& id, int64_t pid, const std::string& host) {
  return Stmt(db_, "UPDATE jobs SET supervisor_pid=?, host=?, updated_at=? WHERE id=?")
      .Bind(pid)
      .Bind(host)
      .Bind(UtcNow())
      .Bind(id)
      .Run();
}

Status JobDb::SetFilesTotal(const std::string& id, int64_t n) {
  return Stmt(db_, "UPDATE jobs SET files_total=? WHERE id=?").Bind(n).Bind(id).Run();
}

Result<std::optional<JobRecord>> JobDb::GetJob(const std::string& id) {
  Stmt s(db_, SelectSql<JobRecord>(kJobColumns, "jobs WHERE id=?").c_str());
  s.Bind(id);
  FB_ASSIGN_OR_RETURN(bool row, s.Next());
  if (!row) return std::optional<JobRecord>();
  FB_ASSIGN_OR_RETURN(JobRecord j, ReadRow<JobRecord>(s, kJobColumns));
  return std::optional<JobRecord>(std::move(j));
}

Result<std::vector<JobRecord>> JobDb::ListJobs() {
  Stmt s(db_, SelectSql<JobRecord>(kJobColumns, "jobs ORDER BY created_at, id").c_str());
  return ReadRows<JobRecord>(s, kJobColumns);
}

Status JobDb::UpsertTask(const std::string& job, const TaskRecord& t) {
  const std::span<const Column<TaskRecord>> cols = kTaskColumns;
  std::string sql = "INSERT OR REPLACE INTO tasks(job, " + ColumnList(cols) + ") VALUES(?";
  for (size_t i = 0; i < cols.size(); ++i) sql += ",?";
  Stmt s(db_, (sql + ")").c_str());
  return BindRow(s.Bind(job), t, cols).Run();
}

Result<std::vector<TaskRecord>> JobDb::Tasks(const std::string& job) {
  Stmt s(db_, SelectSql<TaskRecord>(kTaskColumns, "tasks WHERE job=? ORDER BY idx").c_str());
  s.Bind(job);
  return ReadRows<TaskRecord>(s, kTaskColumns);
}

Status JobDb::AddAttempt(const std::string& job, int64_t index, int attempt, int64_t pid, int exit_code,
                         int signal, const std::string& started_at, const std::string& finished_at) {
  return Stmt(db_,
              "INSERT OR REPLACE INTO attempts(job, idx, attempt, pid, exit_code, signal, started_at, "
              "finished_at)"
              " VALUES(?,?,?,?,?,?,?,?)")
      .Bind(job)
      .Bind(index)
      .Bind(attempt)
      .Bind(pid)
      .Bind(exit_code)
      .Bind(signal)
      .Bind(started_at)
      .Bind(finished_at)
      .Run();
}

Status JobDb::SetAttemptUsage(const std::string& job, int64_t index, int attempt, double user_seconds,
                              double sys_seconds) {
  return Stmt(db_, "UPDATE attempts SET user_seconds=?, sys_seconds=? WHERE job=? AND idx=? AND attempt=?")
      .Bind(user_seconds)
      .Bind(sys_seconds)
      .Bind(job)
      .Bind(index)
      .Bind(attempt)
      .Run();
}

Result<std::vector<AttemptRecord>> JobDb::Attempts(const std::string& job) {
  Stmt s(db_,
         SelectSql<AttemptRecord>(kAttemptColumns, "attempts WHERE job=? ORDER BY idx, attempt").c_str());
  s.Bind(job);
  return ReadRows<AttemptRecord>(s, kAttemptColumns);
}

Result<double> JobDb::CpuSeconds(const std::string& job) {
  Stmt s(db_, "SELECT total(user_seconds + sys_seconds) FROM attempts WHERE job=?");
  s.Bind(job);
  FB_ASSIGN_OR_RETURN(bool row, s.Next());
  return row ? s.Real(0) : 0.0;
}

Status JobDb::AddPendingFiles(const std::string& job, const std::vector<std::string>& relatives,
                              const std::vector<int64_t>& tasks) {
  FB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  for (size_t i = 0; i < relatives.size(); ++i) {
    Status s = Stmt(db_,
                    "INSERT INTO files(job, relative, task, state, updated_at) VALUES(?,?,?,?,?)"
                    " ON CONFLICT(job, relative) DO UPDATE SET task=excluded.task")
                   .Bind(job)
                   .Bind(relatives[i])
                   .Bind(tasks[i])
                   .Bind(FileState::kPending)
                   .Bind(UtcNow())
                   .Run();
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
  }
  return Exec("COMMIT");
}

Status JobDb::RecordFile(const std::string& job, const FileRecord& f) {
  // A file done earlier in this job and skipped by a resume stays done, with
  // the rows and timing of the run that made it.
  static const std::string sql = [] {
    const std::string done = std::string("'") + StateName(FileState::kDone) + "'";
    const std::string skipped = std::string("'") + StateName(FileState::kSkipped) + "'";
    auto unless_kept = [&](const std::string& column, const std::string& kept) {
      return " " + column + "=CASE WHEN files.state=" + done + " AND excluded.state=" + skipped + " THEN " +
             kept + " ELSE excluded." + column + " END,";
    };
    return "INSERT INTO files(job, relative, task, state, rows, attempts, error, seconds, output, sha256,"
           " updated_at, updated_unix) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(job, relative) DO UPDATE"
           " SET task=excluded.task," +
           unless_kept("state", done) + unless_kept("rows", "files.rows") +
           unless_kept("seconds", "files.seconds") + unless_kept("updated_unix", "files.updated_unix") +
           " attempts=excluded.attempts,"
           " error=excluded.error, output=excluded.output,"
           " sha256=excluded.sha256, updated_at=excluded.updated_at";
  }();
  return Stmt(db_, sql.c_str())
      .Bind(job)
      .Bind(f.relative)
      .Bind(f.task)
      .Bind(f.state)
      .Bind(f.rows)
      .Bind(f.attempts)
      .Bind(f.error)
      .Bind(f.seconds)
      .Bind(f.output)
      .Bind(f.sha256)
      .Bind(UtcNow())
      .Bind(f.updated_unix > 0 ? f.updated_unix : UnixNow())
      .Run();
}

Result<std::vector<FileRecord>> JobDb::Files(const std::string& job) {
  Stmt s(db_, SelectSql<FileRecord>(kFileColumns, "files WHERE job=? ORDER BY relative").c_str());
  s.Bind(job);
  return ReadRows<FileRecord>(s, kFileColumns);
}

Result<FileCounts> JobDb::Counts(const std::string& job) {
  Stmt s(db_, "SELECT state, count(*), sum(rows) FROM files WHERE job=? GROUP BY state");
  s.Bind(job);
  FileCounts c;
  for (;;) {
    FB_ASSIGN_OR_RETURN(bool row, s.Next());
    if (!row) break;
    FB_ASSIGN_OR_RETURN(FileState st, ReadStateAt<FileState>(s, 0));
    const int64_t n = s.Int(1);
    switch (st) {
      case FileState::kDone:
        c.done = n;
        c.rows = static_cast<uint64_t>(s.Int(2));
        break;
      case FileState::kSkipped: c.skipped = n; break;
      case FileState::kFailed: c.failed = n; break;
      case FileState::kRunning:
      case FileState::kRetrying: c.running += n; break;
      case FileState::kPending:
      case FileState::kAbandoned: c.pending += n; break;
    }
  }
  return c;
}

Result<double> JobDb::LastFileUpdateUnix(const std::string& job) {
  Stmt s(db_, "SELECT coalesce(max(updated_unix), 0) FROM files WHERE job=?");
  s.Bind(job);
  FB_ASSIGN_OR_RETURN(bool row, s.Next());
  return row ? s.Real(0) : 0.0;
}

Result<bool> JobDb::HasTable(const char* name) {
  Stmt s(db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?");
  s.Bind(name);
  FB_ASSIGN_OR_RETURN(bool row, s.Next());
  return row && s.Int(0) > 0;
}

Result<int64_t> JobDb::StartRun(const std::string& job, double started_unix) {
  FB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Stmt n(db_, "SELECT coalesce(max(run), 0) + 1 FROM runs WHERE job=?");
  n.Bind(job);
  auto row = n.Next();
  if (!row.ok() || !*row) {
    (void)Exec("ROLLBACK");
    return row.ok() ? IoError("job database: cannot number a run") : row.status();
  }
  const int64_t run = n.Int(0);
  Status s = Stmt(db_, "INSERT INTO runs(job, run, started_unix, state) VALUES(?,?,?,?)")
                 .Bind(job)
                 .Bind(run)
                 .Bind(started_unix)
                 .Bind(JobState::kRunning)
                 .Run();
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  FB_RETURN_IF_ERROR(Exec("COMMIT"));
  return run;
}

Status JobDb::FinishRun(const std::string& job, const RunRecord& r) {
  return Stmt(db_,
              "UPDATE runs SET finished_unix=?, seconds=?, state=?, done=?, failed=?, rows=? WHERE job=? AND "
              "run=?")
      .Bind(r.finished_unix)
      .Bind(r.seconds)
      .Bind(r.state)
      .Bind(r.done)
      .Bind(r.failed)
      .Bind(r.rows)
      .Bind(job)
      .Bind(r.run)
      .Run();
}

Status JobDb::CloseUnfinishedRuns(const std::string& job, double last_activity_unix) {
  return Stmt(db_,
              "UPDATE runs SET state=?3, finished_unix=max(started_unix, ?1),"
              " seconds=max(started_unix, ?1) - started_unix WHERE job=?2 AND finished_unix=0")
      .Bind(last_activity_unix)
      .Bind(job)
      .Bind(JobState::kDead)
      .Run();
}

Result<std::vector<RunRecord>> JobDb::Runs(const std::string& job) {
  FB_ASSIGN_OR_RETURN(bool has, HasTable("runs"));
  if (!has) return std::vector<RunRecord>();
  Stmt s(db_, SelectSql<RunRecord>(kRunColumns, "runs WHERE job=? ORDER BY run").c_str());
  s.Bind(job);
  return ReadRows<RunRecord>(s, kRunColumns);
}

Status JobDb::SetEstimate(const std::string& job, const std::string& estimate_json) {
  return Stmt(db_, "INSERT OR REPLACE INTO estimates(job, estimate) VALUES(?,?)")
      .Bind(job)
      .Bind(estimate_json)
      .Run();
}

Result<std::optional<std::string>> JobDb::EstimateJson(const std::string& job) {
  FB_ASSIGN_OR_RETURN(bool has, HasTable("estimates"));
  if (!has) return std::optional<std::string>();
  Stmt s(db_, "SELECT estimate FROM estimates WHERE job=?");
  s.Bind(job);
  FB_ASSIGN_OR_RETURN(bool row, s.Next());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status JobDb::ResetRunning(const std::string& job) {
  return Stmt(db_, "UPDATE files SET state=? WHERE job=? AND state IN (?, ?, ?)")
      .Bind(FileState::kPending)
      .Bind(job)
      .Bind(FileState::kRunning)
      .Bind(FileState::kRetrying)
      .Bind(FileState::kAbandoned)
      .Run();
}

}  // namespace fb
