/* progress.c — progress bar with ETA on a terminal, one line per row elsewhere (see
 * progress.h). The ETA is the sweep's wall time per configuration run so far (model loads
 * and accuracy passes included) times those left. The bar is redrawn only on events (a row written, a run starting), so
 * nothing runs in the background while a configuration is being measured. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "escape.h"
#include "util.h"

struct tlb_progress {
    FILE *out;
    int tty, total, to_run, done, ran;
    int64_t t0;           /* start of the sweep */
    int64_t run_start;    /* start of the running configuration, 0 = none */
    char label[128];
};

void tlb_format_duration(double s, char *buf, size_t n) {
    if (!(s >= 0)) s = 0;
    if (s > 3.6e7) s = 3.6e7; /* 10000 h: keeps the text short */
    unsigned t = (unsigned)(s + 0.5);
    if (t > 36000000u) t = 36000000u;
    if (t >= 3600) snprintf(buf, n, "%uh%02um", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%um%02us", t / 60, t % 60);
    else snprintf(buf, n, "%us", t);
}

struct tlb_progress *tlb_progress_new(FILE *out, int total, int to_run, int tty) {
    struct tlb_progress *p = tlb_calloc(1, sizeof *p, "progress");
    if (!p) return NULL;
    p->out = out;
    p->tty = tty >= 0 ? tty : isatty(fileno(out));
    p->total = total;
    p->to_run = to_run;
    p->t0 = tlb_now_ns();
    return p;
}

void tlb_progress_free(struct tlb_progress *p) { free(p); }

static int width(const struct tlb_progress *p) {
    struct winsize ws;
    if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

static void clear_bar(struct tlb_progress *p) {
    if (p->tty) fputs("\r\033[K", p->out);
}

static void draw_bar(struct tlb_progress *p) {
    if (!p->tty) return;
    int64_t now = tlb_now_ns();
    char el[32], eta[32] = "?";
    tlb_format_duration((double)(now - p->t0) / 1e9, el, sizeof el);
    int left = p->to_run - p->ran;
    if (p->ran > 0) {
        /* wall time per configuration so far, model loads and accuracy passes included */
        double per = (double)(now - p->t0) / p->ran / 1e9;
        double cur = p->run_start ? (double)(now - p->run_start) / 1e9 : 0;
        double rem = per * left - (cur < per ? cur : per);
        tlb_format_duration(rem > 0 ? rem : 0, eta, sizeof eta);
    }
    int pct = p->total ? 100 * p->done / p->total : 100;
    char bar[24];
    int fill = p->total ? 20 * p->done / p->total : 20;
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    char line[512];
    snprintf(line, sizeof line, "[%s] %d/%d %3d%%  elapsed %s  ETA %s%s%s", bar, p->done,
             p->total, pct, el, eta, p->run_start ? "  running: " : "",
             p->run_start ? p->label : "");
    int w = width(p) - 1;
    if ((int)strlen(line) > w) line[w] = '\0';
    fprintf(p->out, "\r\033[K%s", line);
    fflush(p->out);
}

void tlb_progress_begin(struct tlb_progress *p, const char *label) {
    if (!p) return;
    tlb_esc_term_to(label, p->label, sizeof p->label);
    p->run_start = tlb_now_ns();
    draw_bar(p);
}

void tlb_progress_row(struct tlb_progress *p, const char *text, int ran) {
    if (!p) return;
    p->done++;
    if (ran && p->run_start) p->ran++;
    p->run_start = 0;
    clear_bar(p);
    char shown[1400]; /* rows quote status details, which come from files: escaped */
    fprintf(p->out, "[%d/%d] %s\n", p->done, p->total, tlb_esc_term_to(text, shown, sizeof shown));
    draw_bar(p);
    fflush(p->out);
}

void tlb_progress_note(struct tlb_progress *p, const char *msg) {
    char shown[1400];
    tlb_esc_term_to(msg, shown, sizeof shown);
    if (!p) {
        fprintf(stderr, "tlbench: %s\n", shown);
        return;
    }
    clear_bar(p);
    fprintf(p->out, "tlbench: %s\n", shown);
    draw_bar(p);
    fflush(p->out);
}

void tlb_progress_done(struct tlb_progress *p) {
    if (!p) return;
    clear_bar(p);
    fflush(p->out);
}
