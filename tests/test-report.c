/* test-report.c — the parts of `tlbench report` below the charts: the gnuplot label filter
 * (no byte that means anything to gnuplot survives), HTML/Markdown escaping and base64,
 * the kernels CSV reader (good and hostile files), and the decisions on the synthetic
 * two-board fixture (tests/fixtures/report): best configuration under a RAM budget, fastest
 * kernel per weight type, largest memory per type, prices from --price and profiles. */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "test.h"
#include "util.h"

#define FIX "tests/fixtures/report/"

TLB_TEST(safe_label_filters_every_dangerous_byte) {
    char in[256], out[TLB_REP_LABEL];
    for (int c = 1; c < 256; c++) {
        in[0] = 'a';
        in[1] = (char)c;
        in[2] = 'b';
        in[3] = '\0';
        tlb_rep_safe(in, out, sizeof out, 40);
        for (const char *p = out; *p; p++)
            TLB_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f &&
                          !strchr("'\"`\\$@#;%&|<>{}[]!~^*\t", *p),
                      "byte %d gave byte %d", c, (unsigned char)*p);
    }
    tlb_rep_safe("system(\"touch X\")`id`;$HOME @m #c\n<b>", out, sizeof out, 40);
    TLB_CHECK(!strcmp(out, "system(?touch X?)?id???HOME ?m ?c ?b?"), "'%s'", out);
    tlb_rep_safe("  q4_0   avx512\t(2 thr) ", out, sizeof out, 40);
    TLB_CHECK(!strcmp(out, "q4_0 avx512 (2 thr)"), "'%s'", out);
    tlb_rep_safe("Raspberry Pi 5 Model B Rev 1.0 with a very long name", out, sizeof out, 20);
    TLB_CHECK(!strcmp(out, "Raspberry Pi 5 Mo...") && strlen(out) == 20, "'%s'", out);
    tlb_rep_safe("", out, sizeof out, 20);
    TLB_CHECK(!strcmp(out, "-"), "empty -> '%s'", out);
    tlb_rep_safe("Pi \xc3\xa9t\xc3\xa9", out, sizeof out, 20); /* one '?' per UTF-8 character */
    TLB_CHECK(!strcmp(out, "Pi ?t?"), "'%s'", out);
}

TLB_TEST(html_and_markdown_escaping) {
    struct tlb_buf b = {0};
    tlb_esc_html(&b, "<script>a&b \"c\" 'd'</script>\x01\xff\xc3\xa9");
    TLB_CHECK(b.p && !strcmp(b.p, "&lt;script&gt;a&amp;b &quot;c&quot; &#39;d&#39;&lt;/script&gt;"
                                  "\xEF\xBF\xBD\xc3\xa9"), "html '%s'", b.p);
    tlb_buf_free(&b);
    tlb_esc_md(&b, "a|b *c* `d` <e> [f](g)\nh_i & #j");
    TLB_CHECK(b.p && !strcmp(b.p, "a\\|b \\*c\\* \\`d\\` &lt;e&gt; \\[f\\](g) h\\_i &amp; \\#j"),
              "md '%s'", b.p);
    tlb_buf_free(&b);
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        tlb_buf_puts(&b, ""); /* an empty buffer still gets a string */
        tlb_rep_put_base64(&b, (const unsigned char *)in[i], strlen(in[i]));
        TLB_CHECK(!strcmp(b.p, want[i]), "base64('%s') = '%s'", in[i], b.p);
        tlb_buf_free(&b);
    }
}

TLB_TEST(numbers_for_tables) {
    char buf[32];
    TLB_CHECK(!strcmp(tlb_rep_num(38.4567, buf, sizeof buf), "38.5"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_num(0.00141, buf, sizeof buf), "1.41e-03"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_num(NAN, buf, sizeof buf), "-"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_bytes(744.0 * 1048576, buf, sizeof buf), "744 MiB"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_bytes(4.25 * 1073741824, buf, sizeof buf), "4.25 GiB"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_budget_name((uint64_t)2 << 30, buf, sizeof buf), "2 GiB"), "%s", buf);
    TLB_CHECK(!strcmp(tlb_rep_budget_name((uint64_t)512 << 20, buf, sizeof buf), "512 MiB"), "%s", buf);
}

static int write_text(const char *path, const char *s) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(s, f);
    return fclose(f);
}

TLB_TEST(kernels_csv_reader) {
    TLB_CHECK(tlb_rep_kcsv_is(FIX "kernels-x86.csv") == 1, "kernels CSV not recognised");
    TLB_CHECK(tlb_rep_kcsv_is(FIX "x86.csv") == 0, "results CSV taken for a kernels CSV");
    struct tlb_rep_kfile k;
    TLB_CHECK(tlb_rep_kcsv_read(FIX "kernels-x86.csv", &k) == 0, "read failed");
    int ok = k.n_rows == 49 && !strcmp(k.rows[0].kernel, "tiled") && !strcmp(k.rows[0].wtype, "f32") &&
             k.rows[0].n == 2048 && k.rows[0].m == 1 && k.rows[0].threads == 2 &&
             fabs(k.rows[0].bw_probe - 27.6) < 1e-9 && !strcmp(k.cpu, "AMD EPYC") &&
             !strcmp(k.date, "2026-11-27") && !strncmp(k.rows[48].status, "unsupported", 11) &&
             isnan(k.rows[48].gflops);
    size_t n = k.n_rows;
    tlb_rep_kcsv_free(&k);
    TLB_CHECK(ok, "unexpected content (%zu rows)", n);

    char path[] = "/tmp/tlb-kcsv-XXXXXX";
    int fd = mkstemp(path);
    TLB_CHECK(fd >= 0, "mkstemp");
    close(fd);
    /* a row with a value no measurement can have is skipped (with a warning), the rest read */
    static const char *const bad_rows[] = {
        "avx512,q4_0,2048,2048,1,2,system(x),1,ok\n",                   /* not a number */
        "avx512,q4_0,-5,2048,1,2,1,1,ok\n",                              /* negative size */
        "avx512,q4_0,2048,2048,1,2,-3,1,ok\n",                           /* negative GFLOP/s */
        "avx512,q4_0,2048,2048,1,2,1,1e300,ok\n",                        /* 1e300 GB/s */
    };
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "kernel,weight_type,n,k,m,n_threads,gflops,gbps,status\n"
                 "avx512,q4_0,2048,2048,1,2,7,8,ok\n%s", bad_rows[i]);
        TLB_CHECK(write_text(path, text) == 0, "write");
        int rc = tlb_rep_kcsv_read(path, &k);
        int one = rc == 0 && k.n_rows == 1 && k.rows[0].gflops == 7;
        if (rc == 0) tlb_rep_kcsv_free(&k);
        TLB_CHECK(one, "kernels CSV row %zu: rc %d, the bad row must be skipped", i, rc);
    }
    static const char *const bad[] = {
        "kernel,weight_type,n,k,m,n_threads,gflops,gbps,status\n"
        "avx512,q4_0,2048,2048,1,2,1,1\n",                               /* short row */
        "kernel,weight_type,n,k,gflops,gbps,status\n",                   /* no m column */
        "kernel,weight_type,n,k,m,n_threads,gflops,gbps,status\n"
        "\"avx512,q4_0,2048,2048,1,2,1,1,ok\n",                          /* open quote */
        "",                                                              /* empty */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TLB_CHECK(write_text(path, bad[i]) == 0, "write");
        int rc = tlb_rep_kcsv_read(path, &k);
        if (rc == 0) tlb_rep_kcsv_free(&k);
        TLB_CHECK(rc == -1, "bad kernels CSV %zu accepted", i);
    }
    unlink(path);
}

TLB_TEST(decisions_on_two_boards) {
    struct tlb_rep_data d;
    const char *files[] = {FIX "x86.csv", FIX "rpi5.csv"};
    TLB_CHECK(tlb_rep_load(&d, files, 2, FIX "kernels-x86.csv", NULL) == 0, "load failed");
    int ok = d.n_boards == 2 && d.n_kfiles == 1 && !strcmp(d.model, "tinyllama-1.1b") &&
             d.n_prompt == 128 && d.n_gen == 64 && !strcmp(d.kv, "f32") && d.n_wtypes == 4 &&
             !strcmp(d.wtypes[0], "f32") && !strcmp(d.wtypes[3], "q4_0") && d.n_issues == 1 &&
             !strcmp(d.issues[0].status, "timeout") && d.n_rows == 72 + 143;
    int rpi = d.n_boards == 2 && !strcmp(d.boards[1].kind, "rpi5") ? 1 : 0;
    const struct tlb_rep_board *b = &d.boards[rpi];
    ok = ok && rpi == 1 && b->has_power && b->max_threads == 4 && b->min_depth == 0 &&
         !strcmp(b->power_source, "rpi-pmic") && !strcmp(b->date_lo, "2026-11-20") &&
         !strcmp(d.boards[0].label, "QEMU Standard PC (Q35 + ICH9, 2009)");
    if (!ok) {
        tlb_rep_free(&d);
        TLB_CHECK(0, "loaded data is not what the fixture holds");
    }
    /* under 2 GiB the rpi5's fastest is q4_0 on neon with 4 threads; under 1.5 GiB too;
     * f32 needs ~4.2 GiB, so under 5 GiB the fastest is still q4_0 (speed, not precision) */
    struct tlb_rep_best best;
    tlb_rep_best_under(&d, rpi, (uint64_t)2 << 30, &best);
    const struct tlb_rep_row *r = best.row >= 0 ? &d.rows[best.row] : NULL;
    ok = r && !strcmp(r->wtype, "q4_0") && !strcmp(r->kernel, "neon") && r->threads == 4 &&
         r->depth == 0 && best.fit_ctx == 1728 && fabs(r->tg - 12.37) < 0.1;
    /* 720 MiB: q4_0 (peak ~680 MiB at depth 0, ~746 MiB at depth 1536) fits at the contexts
     * of depths 0 and 512 only */
    struct tlb_rep_best small;
    tlb_rep_best_under(&d, rpi, (uint64_t)720 << 20, &small);
    ok = ok && small.row >= 0 && small.fit_ctx == 704;
    /* 100 MiB: nothing fits; the smallest configuration is q4_0 */
    tlb_rep_best_under(&d, rpi, (uint64_t)100 << 20, &small);
    ok = ok && small.row == -1 && small.smallest >= 0 && !strcmp(d.rows[small.smallest].wtype, "q4_0");
    long f16 = tlb_rep_best_for_type(&d, 0, "f16");
    ok = ok && f16 >= 0 && !strcmp(d.rows[f16].kernel, "avx512") && d.rows[f16].threads == 2;
    int64_t ctx = 0;
    double peak = tlb_rep_peak_max(&d, 0, "f32", &ctx);
    ok = ok && ctx == 1728 && peak > 4.2 * (1 << 30) && peak < 4.3 * (1 << 30);
    /* prices: --price by board name wins; else the rpi5 profile's price_usd (80) */
    struct tlb_rep_opts o;
    memset(&o, 0, sizeof o);
    o.prices[0] = (struct tlb_rep_price){"QEMU Standard PC (Q35 + ICH9, 2009)", 999};
    o.n_prices = 1;
    tlb_rep_prices(&d, &o);
    ok = ok && d.boards[0].price_usd == 999 && !strcmp(d.boards[0].price_src, "--price") &&
         d.boards[rpi].price_usd == 80;
    tlb_rep_free(&d);
    TLB_CHECK(ok, "wrong decision");
}

/* Two sweeps on boards of one model (same `board`) are two boards when labelled; a label
 * is its own key (a board without a label stays apart from a labelled one) and names the
 * board in the page and for --price. Files before tlbench-csv-3 keep keying by board. */
TLB_TEST(board_labels_key_boards) {
    char a[256], b[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(a, sizeof a, "%s/tlb-rep-a-%d.csv", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(b, sizeof b, "%s/tlb-rep-b-%d.csv", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    TLB_CHECK(tlb_test_csv_v3_labelled(FIX "x86.csv", a, "lab-x86-1") == 0 &&
                  tlb_test_csv_v3_labelled(FIX "x86.csv", b, "lab-x86-2") == 0,
              "cannot write the labelled copies");
    struct tlb_rep_data d;
    const char *two[] = {a, b};
    int rc = tlb_rep_load(&d, two, 2, NULL, NULL);
    int ok = rc == 0 && d.n_boards == 2 && !strcmp(d.boards[0].label, "lab-x86-1") &&
             !strcmp(d.boards[1].label, "lab-x86-2") && !strcmp(d.boards[1].user_label, "lab-x86-2") &&
             d.boards[0].n_charted == d.boards[1].n_charted && d.boards[0].n_charted > 0;
    struct tlb_rep_opts o;
    memset(&o, 0, sizeof o);
    o.prices[0] = (struct tlb_rep_price){"lab-x86-2", 123};
    o.n_prices = 1;
    if (rc == 0) tlb_rep_prices(&d, &o);
    ok = ok && d.boards[1].price_usd == 123 && d.boards[0].price_usd != 123;
    tlb_rep_free(&d);
    const char *mixed[] = {FIX "x86.csv", a};
    rc = tlb_rep_load(&d, mixed, 2, NULL, NULL);
    int ok2 = rc == 0 && d.n_boards == 2 &&
              !strcmp(d.boards[0].label, "QEMU Standard PC (Q35 + ICH9, 2009)") &&
              !strcmp(d.boards[1].label, "lab-x86-1");
    tlb_rep_free(&d);
    const char *same[] = {FIX "x86.csv", FIX "x86.csv"};
    rc = tlb_rep_load(&d, same, 2, NULL, NULL);
    int ok3 = rc == 0 && d.n_boards == 1;
    tlb_rep_free(&d);
    unlink(a);
    unlink(b);
    TLB_CHECK(ok, "two labels on one board model must give two boards named by the labels");
    TLB_CHECK(ok2, "an unlabelled file and a labelled one must give two boards");
    TLB_CHECK(ok3, "unlabelled rows of one board must stay one board");
}

/* JSON inputs: info files and fleet status records are flat objects, bounded and checked;
 * each is matched to its board by board_label (else by the detected board name); a fleet
 * record of a board without results stays unmatched, to be listed in the fleet table. */
TLB_TEST(json_inputs_matched_to_boards) {
#if !defined(TLB_HAVE_CJSON) || !TLB_HAVE_CJSON
    TLB_SKIP("this build has no cJSON (libcjson-dev): JSON inputs are ignored");
#else
    char dir[200], p[6][256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tlb-rep-json-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    TLB_CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    static const char *const names[6] = {"a.csv", "info-a.json", "info-x86.json", "fleet-down.json",
                                         "fleet-a.json", "stray.json"};
    for (int i = 0; i < 6; i++) snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
    int ok = tlb_test_csv_v3_labelled(FIX "x86.csv", p[0], "lab-a") == 0 &&
             write_text(p[1], "{\"board_label\": \"lab-a\", \"arch\": \"x86_64\", "
                              "\"cpu_governor\": \"performance\", \"mem_total_bytes\": 8589934592, "
                              "\"cpu_freq_max_khz\": null, \"smt\": true}") == 0 &&
             write_text(p[2], "{\"board\": \"QEMU Standard PC (Q35 + ICH9, 2009)\", "
                              "\"arch\": \"x86_64\", \"cpu_governor\": \"powersave\"}") == 0 &&
             write_text(p[3], "{\"board_label\": \"down\", \"fleet_host\": \"down\", "
                              "\"fleet_status\": \"unreachable\", \"fleet_detail\": \"refused\"}") == 0 &&
             write_text(p[4], " \n{\"board_label\": \"lab-a\", \"fleet_status\": \"ok\"}") == 0 &&
             write_text(p[5], "{\"board_label\": \"nobody\", \"arch\": \"x86_64\"}") == 0;
    TLB_CHECK(ok, "cannot write the inputs");
    const char *files[] = {FIX "x86.csv", p[0], p[1], p[2], p[3], p[4], p[5]};
    struct tlb_rep_data d;
    int rc = tlb_rep_load(&d, files, 7, NULL, NULL);
    int lab = -1, plain = -1;
    for (int b = 0; rc == 0 && b < d.n_boards; b++) {
        if (!strcmp(d.boards[b].user_label, "lab-a")) lab = b;
        else plain = b;
    }
    ok = rc == 0 && d.n_kvs == 5 && lab >= 0 && plain >= 0;
    if (ok) {
        const struct tlb_rep_kv *li = &d.kvs[d.boards[lab].info], *pi = &d.kvs[d.boards[plain].info];
        ok = d.boards[lab].info >= 0 && d.boards[plain].info >= 0 && d.boards[lab].fleet >= 0 &&
             d.boards[plain].fleet < 0 && !strcmp(tlb_rep_kv_get(li, "cpu_governor"), "performance") &&
             !strcmp(tlb_rep_kv_get(li, "mem_total_bytes"), "8589934592") &&
             !strcmp(tlb_rep_kv_get(li, "cpu_freq_max_khz"), "") &&
             !strcmp(tlb_rep_kv_get(li, "smt"), "true") &&
             !strcmp(tlb_rep_kv_get(pi, "cpu_governor"), "powersave") &&
             tlb_rep_kv_get(li, "nope") == NULL;
        int down_unmatched = 0;
        for (int k = 0; k < d.n_kvs; k++)
            if (tlb_rep_kv_get(&d.kvs[k], "fleet_status") &&
                !strcmp(tlb_rep_kv_get(&d.kvs[k], "fleet_status"), "unreachable"))
                down_unmatched = d.kvs[k].board == -1;
        ok = ok && down_unmatched;
    }
    tlb_rep_free(&d);
    TLB_CHECK(ok, "info and fleet files not matched to their boards (rc %d)", rc);
    /* hostile or wrong files are refused with an error, never half-read */
    static const char *const bad[] = {
        "{\"arch\": {\"nested\": 1}}", "{\"arch\": [1, 2]}", "[1, 2]", "{\"arch\": \"x\"",
        "{\"\": \"empty key\", \"arch\": \"x\"}", "{\"some\": \"thing\"}", "{ not json }"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad); i++) {
        TLB_CHECK(write_text(p[5], bad[i]) == 0, "write");
        const char *one[] = {FIX "x86.csv", p[5]};
        rc = tlb_rep_load(&d, one, 2, NULL, NULL);
        tlb_rep_free(&d);
        TLB_CHECK(rc == -1, "bad JSON %zu accepted: %s", i, bad[i]);
    }
    char *big = malloc(5000 + 64);
    TLB_CHECK(big, "malloc");
    int n = sprintf(big, "{\"arch\": \"");
    memset(big + n, 'x', 5000);
    strcpy(big + n + 5000, "\"}");
    rc = write_text(p[5], big);
    free(big);
    const char *one[] = {FIX "x86.csv", p[5]};
    int rc2 = rc == 0 ? tlb_rep_load(&d, one, 2, NULL, NULL) : 0;
    tlb_rep_free(&d);
    for (int i = 0; i < 6; i++) unlink(p[i]);
    rmdir(dir);
    TLB_CHECK(rc == 0 && rc2 == -1, "a 5000-byte value must be refused");
#endif
}

TLB_TEST(model_selection_and_errors) {
    struct tlb_rep_data d;
    const char *files[] = {FIX "x86.csv"};
    TLB_CHECK(tlb_rep_load(&d, files, 1, NULL, "tinyllama-1.1b") == 0, "explicit model");
    tlb_rep_free(&d);
    TLB_CHECK(tlb_rep_load(&d, files, 1, NULL, "stories15M") == -1, "unknown model accepted");
    tlb_rep_free(&d);
    const char *none[] = {FIX "no-such-file.csv"};
    TLB_CHECK(tlb_rep_load(&d, none, 1, NULL, NULL) == -1, "missing file accepted");
    tlb_rep_free(&d);
    const char *kernels_only[] = {FIX "kernels-x86.csv"};
    TLB_CHECK(tlb_rep_load(&d, kernels_only, 1, NULL, NULL) == -1, "no results CSV accepted");
    tlb_rep_free(&d);
}

TLB_TEST_MAIN()
