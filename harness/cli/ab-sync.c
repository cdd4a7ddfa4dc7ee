/* ab-sync.c — the interleaving protocol of `tlbench ab` (see ab-sync.h). */
#include "ab-sync.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int tlb_sync_open(struct tlb_sync *s, const char *fds) {
    memset(s, 0, sizeof *s);
    long in, out;
    char buf[32];
    const char *comma = strchr(fds, ',');
    if (!comma || (size_t)(comma - fds) >= sizeof buf) goto bad;
    memcpy(buf, fds, (size_t)(comma - fds));
    buf[comma - fds] = '\0';
    if (tlb_parse_int(buf, 3, 1023, &in) || tlb_parse_int(comma + 1, 3, 1023, &out) || in == out)
        goto bad;
    if (fcntl((int)in, F_GETFD) < 0 || fcntl((int)out, F_GETFD) < 0) {
        tlb_error("--ab-sync %s: descriptors not open (it is set by tlbench ab)", fds);
        return -1;
    }
    fcntl((int)in, F_SETFD, FD_CLOEXEC); /* not for the workers */
    fcntl((int)out, F_SETFD, FD_CLOEXEC);
    if (!(s->in = fdopen((int)in, "r")) || !(s->out = fdopen((int)out, "w"))) {
        tlb_error("--ab-sync %s: cannot open the descriptors", fds);
        tlb_sync_close(s);
        return -1;
    }
    return 0;
bad:
    tlb_error("--ab-sync: '%.40s' is not IN,OUT (two descriptors, set by tlbench ab)", fds);
    return -1;
}

void tlb_sync_close(struct tlb_sync *s) {
    if (s->in) fclose(s->in);
    if (s->out) fclose(s->out);
    s->in = s->out = NULL;
}

int tlb_sync_send_plan(struct tlb_sync *s, const struct tlb_plan *p) {
    if (fprintf(s->out, "plan %d\n", p->n) < 0) return -1;
    int group = 0;
    for (int i = 0; i < p->n; i++) {
        const struct tlb_plan_item *it = &p->items[i];
        if (i && (it->model != p->items[i - 1].model || it->wtype != p->items[i - 1].wtype))
            group++;
        struct tlb_plan_item one = *it;
        one.round = 0; /* the key names the configuration, whatever the round */
        char key[160];
        tlb_plan_item_label(&one, key, sizeof key);
        char full[200];
        snprintf(full, sizeof full, "m%d %s", it->model, key);
        if (fprintf(s->out, "item %d %d %d %s\n", i, it->round, group, full) < 0) return -1;
    }
    return fflush(s->out) == 0 ? 0 : -1;
}

int tlb_sync_read_line(FILE *f, char *buf, size_t n) {
    if (!fgets(buf, (int)n, f)) return -1;
    size_t len = strlen(buf);
    if (len == 0 || buf[len - 1] != '\n') return -1; /* too long, or cut by EOF */
    buf[len - 1] = '\0';
    return 0;
}

int tlb_sync_ready(struct tlb_sync *s, int item) {
    s->ran = 0;
    char line[TLB_SYNC_LINE];
    if (fprintf(s->out, "ready %d\n", item) < 0 || fflush(s->out) != 0 ||
        tlb_sync_read_line(s->in, line, sizeof line) != 0)
        return -1;
    if (!strcmp(line, "run")) {
        s->ran = 1;
        return 0;
    }
    return !strcmp(line, "skip") ? 1 : -1;
}

/* A numeric cell, or "-" when empty. */
static const char *num_or_dash(const struct tlb_row *row, const char *col) {
    const char *v = tlb_row_get(row, col);
    return v && *v ? v : "-";
}

int tlb_sync_row(struct tlb_sync *s, int item, const struct tlb_row *row, enum tlb_status st) {
    if (!s->ran) return 0; /* rows decided without running (unsupported...) are not turns */
    s->ran = 0;
    if (fprintf(s->out, "row %d %s %s %s %s\n", item, tlb_status_name(st),
                num_or_dash(row, "tg_ts_median"), num_or_dash(row, "pp_ts_median"),
                num_or_dash(row, "busy_cpus")) < 0)
        return -1;
    return fflush(s->out) == 0 ? 0 : -1;
}

int tlb_sync_rep(struct tlb_sync *s, int item, int rep) {
    char line[TLB_SYNC_LINE];
    if (fprintf(s->out, "rep %d %d\n", item, rep) < 0 || fflush(s->out) != 0 ||
        tlb_sync_read_line(s->in, line, sizeof line) != 0)
        return -1;
    return strcmp(line, "go") == 0 ? 0 : -1;
}

void tlb_sync_rep_done(struct tlb_sync *s, int item, int rep, double pp_ts, double tg_ts) {
    char pp[32] = "-", tg[32] = "-";
    if (isfinite(pp_ts)) snprintf(pp, sizeof pp, "%.17g", pp_ts);
    if (isfinite(tg_ts)) snprintf(tg, sizeof tg, "%.17g", tg_ts);
    if (fprintf(s->out, "done %d %d %s %s\n", item, rep, pp, tg) >= 0) fflush(s->out);
}
