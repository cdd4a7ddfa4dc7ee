/* cmd-sweep.c — `tlbench sweep`: the main job. Runs the cross product of models, weight
 * types, kernels, threads, KV depths and KV types (from the platform profile, a sweep file
 * and the command line), each configuration in its own worker process, and appends one
 * fsync'd CSV row per configuration as soon as it ends. Progress goes to stderr; the
 * results path is printed on stdout at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "json-out.h"
#include "progress.h"
#include "results-csv.h"
#include "results-lock.h"
#include "sweep-cli.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench sweep [--profile NAME | --sweep FILE] [--model LIST] [--quant LIST]\n"
        "                     [--kernel LIST] [-t LIST] [--ctx LIST] [--kv-type LIST]\n"
        "                     [-p N] [-n N] [-r N] [--warmup N] [--timeout SEC]\n"
        "                     [-o FILE.csv] [--resume] [--cooldown SEC] [--max-temp C]\n"
        "                     [--eval-text FILE] [--tokenizer T] [--seed N] [--power-cmd CMD]\n\n"
        "Benchmarks every combination model x weight type x kernel x threads x KV depth x KV\n"
        "type. Defaults come from the platform profile detected for this machine (see\n"
        "'tlbench info'), then a sweep file, then these options. Each configuration runs in its\n"
        "own worker process: warm-up, then r repetitions of one prefill of p tokens at KV depth\n"
        "d and n decode steps; its row (latency, memory, power, accuracy, counters: see\n"
        "docs/csv-schema.md) is appended and fsync'd when it ends. A crash, hang or OOM costs\n"
        "one row (status crashed/timeout/oom), never the sweep; combinations that cannot run\n"
        "here get status unsupported with the reason. Each model is loaded once per weight\n"
        "type and shared by its workers (load_ms is that one load). Accuracy (KL divergence,\n"
        "top-1, max logit error vs the f32 reference; perplexity with --eval-text) is\n"
        "computed once per weight type and kernel and joined to its rows. The platform\n"
        "profile and a sweep file use the option names as keys (n-prompt = 128).\n\n");
    tlb_sweep_cli_help(out, TLB_CMD_SWEEP);
    fprintf(out,
        "\nCtrl-C stops the sweep: the running configuration is killed, every finished row\n"
        "is already on disk, and --resume continues. Exit status: 0 when every configuration\n"
        "ran without failure, 1 when one crashed, timed out, ran out of memory or failed, or\n"
        "the sweep was interrupted, 2 for a usage error.\n");
}

struct sweep_out {
    struct tlb_session *s;
    struct tlb_sync sync;       /* tlbench ab's turns (closed when not driven) */
    struct tlb_json_stream json; /* --format json|jsonl: rows on stdout too (f NULL: none) */
    struct tlb_csv_writer *w;
    struct tlb_progress *pg;
    int counts[TLB_STATUS_COUNT];
    int written;
};

static void row_text(const struct tlb_row *row, const struct tlb_plan_item *it,
                     enum tlb_status st, char *buf, size_t n) {
    char lbl[128];
    tlb_plan_item_label(it, lbl, sizeof lbl);
    if (st == TLB_STATUS_OK || st == TLB_STATUS_INVALID) {
        const char *pp = tlb_row_get(row, "pp_ts_median"), *tg = tlb_row_get(row, "tg_ts_median");
        double ppv = pp && *pp ? strtod(pp, NULL) : 0, tgv = tg && *tg ? strtod(tg, NULL) : 0;
        int k = snprintf(buf, n, "%s: %s pp %.1f t/s", lbl, tlb_status_name(st), ppv);
        if (k > 0 && (size_t)k < n && tg && *tg) snprintf(buf + k, n - (size_t)k, " tg %.1f t/s", tgv);
        if (st == TLB_STATUS_INVALID) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, " (%s)", tlb_row_get(row, "status_detail"));
        }
    } else {
        snprintf(buf, n, "%s: %s (%s)", lbl, tlb_status_name(st),
                 tlb_row_get(row, "status_detail"));
    }
}

static int on_row(void *cb, int item, struct tlb_row *row, enum tlb_status st) {
    struct sweep_out *o = cb;
    if (tlb_csv_append(o->w, row) != 0) return -1;
    if (o->json.f && tlb_json_stream_row(&o->json, row) != 0) return -1;
    if (o->sync.out && tlb_sync_row(&o->sync, item, row, st) != 0) {
        tlb_error("tlbench ab is gone (cannot report the row)");
        return -1;
    }
    o->counts[st]++;
    o->written++;
    char text[1024];
    row_text(row, &o->s->plan.items[item], st, text, sizeof text);
    tlb_progress_row(o->pg, text, st != TLB_STATUS_UNSUPPORTED);
    return 0;
}

static void on_begin(void *cb, int item) {
    struct sweep_out *o = cb;
    char lbl[128];
    tlb_plan_item_label(&o->s->plan.items[item], lbl, sizeof lbl);
    tlb_progress_begin(o->pg, lbl);
}

static void on_note(void *cb, const char *msg) {
    struct sweep_out *o = cb;
    tlb_progress_note(o->pg, msg);
}

static int ensure_dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[1024];
    if ((size_t)(slash - path) >= sizeof dir) return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        tlb_error("cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The default results file of a sweep started now: results/<board>-<YYYYMMDD>.csv. */
static void default_path(const char *board, char *path, size_t n) {
    char day[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(path, n, "results/%s-%s.csv", board, day);
}

/* results/.last-<board> names (one line, a file name in results/) the default file the last
 * sweep on this board wrote, so that --resume without -o finds it after midnight or in another
 * time zone. Untrusted like any file: a bare *.csv name or nothing. */
static void last_pointer(const char *board, char *buf, size_t n) {
    snprintf(buf, n, "results/.last-%s", board);
}

static int last_default(const char *board, char *path, size_t n) {
    char ptr[128];
    last_pointer(board, ptr, sizeof ptr);
    if (access(ptr, F_OK) != 0) return 0;
    size_t len;
    char *text = tlb_read_file(ptr, 4096, &len);
    if (!text) return 0;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = '\0';
    int ok = len > 4 && strlen(text) == len && !strpbrk(text, "/\n\r") && text[0] != '.' &&
             tlb_ends_with(text, ".csv");
    if (ok) snprintf(path, n, "results/%s", text);
    else tlb_warn("%s: not a results file name; ignoring it", ptr);
    free(text);
    return ok && access(path, F_OK) == 0;
}

/* Write the pointer (atomically: a crash leaves the old one or the new one). */
static void remember_default(const char *board, const char *path) {
    char ptr[128], tmp[160];
    last_pointer(board, ptr, sizeof ptr);
    snprintf(tmp, sizeof tmp, "%s.%ld", ptr, (long)getpid());
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    int ok = fd >= 0 && tlb_write_full(fd, name, strlen(name)) == 0 &&
             tlb_write_full(fd, "\n", 1) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, ptr) != 0) {
        tlb_warn("%s: cannot record the last results file (--resume without -o will not find "
                 "it after today): %s", ptr, strerror(errno));
        unlink(tmp);
    }
}

/* A resumed sweep in rounds continues its run: the rows of its last round carry the run id
 * the new rows must share, so that the rounds stay one run (compare pairs rounds of one run). */
static void continue_run_id(const char *path, char *run_id, size_t n) {
    struct tlb_table *t = NULL;
    if (access(path, F_OK) != 0 || tlb_csv_read(path, &t) != 0) return;
    for (size_t r = t->n_rows; r-- > 0;) {
        const char *id = tlb_table_str(t, r, tlb_table_col(t, "run_id"));
        if (!*tlb_table_str(t, r, tlb_table_col(t, "round"))) continue;
        size_t len = strlen(id), ok = len > 0 && len < n;
        for (size_t i = 0; ok && i < len; i++)
            ok = id[i] > 0x20 && id[i] < 0x7f; /* a run id is printable ASCII without spaces */
        if (ok) memcpy(run_id, id, len + 1);
        break;
    }
    tlb_table_free(t);
}

int tlb_cmd_sweep(int argc, char **argv) {
    struct tlb_sweep_cli c;
    int rc = tlb_sweep_cli_parse(argc, argv, TLB_CMD_SWEEP, &c, usage);
    if (rc) {
        tlb_sweep_cli_free(&c);
        return rc == 1 ? TLB_EXIT_OK : rc;
    }
    struct tlb_session s;
    rc = tlb_session_open(&s, &c, TLB_CMD_SWEEP);
    char path[1024];
    struct sweep_out o;
    struct tlb_results_lock *lock = NULL;
    memset(&o, 0, sizeof o);
    o.s = &s;
    if (rc) goto out;
    if (c.args.out_path) snprintf(path, sizeof path, "%s", c.args.out_path);
    else if (!c.args.resume || !last_default(s.board_slug, path, sizeof path))
        default_path(s.board_slug, path, sizeof path);
    /* Claim the file before reading what is done in it: a second sweep is refused here, so
     * no configuration runs twice. */
    if (!c.args.dry_run && (ensure_dir_of(path) != 0 || tlb_results_lock(path, &lock) != 0)) {
        rc = TLB_EXIT_FAIL;
        goto out;
    }
    if (c.args.resume) {
        int n = tlb_plan_mark_done(&s.plan, &s.spec, path);
        if (n < 0) {
            rc = TLB_EXIT_FAIL;
            goto out;
        }
        fprintf(stderr, "tlbench: --resume: %d of %d configurations already in %s\n", n,
                s.plan.n, path);
        if (s.spec.rounds > 1) continue_run_id(path, s.run_id, sizeof s.run_id);
    }
    int total = 0, to_run = 0;
    for (int i = 0; i < s.plan.n; i++) {
        if (s.plan.items[i].done) continue;
        total++;
        to_run += s.plan.items[i].pre_status == TLB_STATUS_OK;
    }
    fprintf(stderr, "tlbench: sweep of %d configurations (%d to run) with profile %s, run %s\n",
            total, to_run, s.have_prof ? s.prof.name : "none (built-in defaults)", s.run_id);
    if (s.plan.n_depth_left_out > 0)
        fprintf(stderr, "tlbench: depths after %d measured with the depth-kernels only (%d "
                "configurations of other kernels left out: the depth changes the attention, "
                "not the matmul kernel; --depth-kernels '' measures every kernel)\n",
                s.spec.depths[0], s.plan.n_depth_left_out);
    if (c.args.dry_run) {
        tlb_session_print_plan(&s, stdout);
        printf("results: %s\n", path);
        rc = TLB_EXIT_OK;
        goto out;
    }
    const int json = c.args.format && !strncmp(c.args.format, "json", 4);
    FILE *res = json ? stderr : stdout; /* stdout stays pure JSON */
    if (total == 0) {
        fprintf(res, "results: %s (nothing left to run)\n", path);
        if (json && strcmp(c.args.format, "jsonl") != 0) fputs("[]\n", stdout);
        rc = TLB_EXIT_OK;
        goto out;
    }
    if (!(o.w = tlb_csv_open_append(path))) {
        rc = TLB_EXIT_FAIL;
        goto out;
    }
    if (!c.args.out_path) remember_default(s.board_slug, path);
    if (c.args.ab_sync) { /* driven by tlbench ab: tell it the plan, then run on its word */
        if (tlb_sync_open(&o.sync, c.args.ab_sync) != 0 ||
            tlb_sync_send_plan(&o.sync, &s.plan) != 0) {
            tlb_error("--ab-sync: cannot talk to tlbench ab");
            rc = TLB_EXIT_FAIL;
            goto out;
        }
        s.sync = &o.sync;
    }
    if (json) o.json = (struct tlb_json_stream){stdout, !strcmp(c.args.format, "jsonl"), 0};
    o.pg = tlb_progress_new(stderr, total, to_run, -1);
    s.cb = &o;
    s.on_row = on_row;
    s.on_begin = on_begin;
    s.on_note = on_note;
    int64_t t0 = tlb_now_ns();
    int er = tlb_session_run(&s, &c);
    tlb_progress_done(o.pg);
    char dur[32];
    tlb_format_duration((double)(tlb_now_ns() - t0) / 1e9, dur, sizeof dur);
    if (tlb_csv_close(o.w) != 0) er = -1;
    o.w = NULL;
    if (o.json.f && tlb_json_stream_end(&o.json) != 0) er = -1;
    char summary[512] = "";
    for (int i = 0; i < TLB_STATUS_COUNT; i++) {
        if (!o.counts[i]) continue;
        size_t l = strlen(summary);
        snprintf(summary + l, sizeof summary - l, "%s%d %s", l ? ", " : "", o.counts[i],
                 tlb_status_name((enum tlb_status)i));
    }
    if (er == 1) {
        tlb_error("interrupted: %d rows written to %s; run the same command with --resume to "
                  "finish",
                  o.written, path);
        rc = TLB_EXIT_FAIL;
    } else if (er < 0) {
        tlb_error("sweep stopped: cannot write %s (%d rows written)", path, o.written);
        rc = TLB_EXIT_FAIL;
    } else {
        fprintf(res, "results: %s (%d rows in %s: %s)\n", path, o.written, dur, summary);
        int failed = o.counts[TLB_STATUS_CRASHED] + o.counts[TLB_STATUS_TIMEOUT] +
                     o.counts[TLB_STATUS_OOM] + o.counts[TLB_STATUS_ERROR];
        rc = failed ? TLB_EXIT_FAIL : TLB_EXIT_OK;
    }
out:
    tlb_sync_close(&o.sync);
    tlb_csv_close(o.w);
    tlb_results_unlock(lock);
    tlb_progress_free(o.pg);
    tlb_session_close(&s);
    tlb_sweep_cli_free(&c);
    return rc;
}
