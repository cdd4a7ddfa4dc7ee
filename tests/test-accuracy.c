/* test-accuracy.c — accuracy against the f32 reference: KL divergence arithmetic on known
 * distributions, the accumulator (top-1, max logit error, perplexity), f32 on every usable
 * kernel agreeing with the naive reference (KLD < 1e-6, top-1 100%), q8_0 closer than q4_0,
 * and stories260K's perplexity on the first 512 tokens of the TinyStories text. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "model.h"
#include "test.h"

TLB_TEST(kld_known_values) {
    float a[2] = {0.0f, logf(3.0f)}, b[2] = {0.0f, 0.0f};
    /* p = (1/4, 3/4), q = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2) */
    double want = 0.25 * log(0.5) + 0.75 * log(1.5);
    TLB_CHECK_NEAR(tlb_acc_kld(a, b, 2), want, 1e-7);
    TLB_CHECK_NEAR(tlb_acc_kld(a, a, 2), 0.0, 1e-15);
    /* invariant to a constant shift of either side's logits */
    float c[2] = {100.0f, 100.0f + logf(3.0f)};
    TLB_CHECK_NEAR(tlb_acc_kld(c, b, 2), want, 1e-5);
    /* large logits do not overflow (computed with the max subtracted, in double) */
    float big[3] = {1000.0f, 999.0f, -1000.0f}, big2[3] = {999.0f, 1000.0f, -1000.0f};
    double k = tlb_acc_kld(big, big2, 3);
    TLB_CHECK(isfinite(k) && k > 0, "kld %g", k);
}

TLB_TEST(accumulator_stats) {
    struct tlb_acc_accum acc;
    tlb_acc_init(&acc);
    enum { V = 8 };
    float ref[V], cand[V];
    for (int pos = 0; pos < 10; pos++) {
        for (int i = 0; i < V; i++) {
            ref[i] = 0.0f;       /* uniform reference */
            cand[i] = 0.0f;
        }
        ref[pos % V] = 2.0f;     /* top-1 of the reference */
        cand[pos < 5 ? pos % V : (pos + 1) % V] = 2.5f; /* agrees on half the positions */
        TLB_CHECK(tlb_acc_add(&acc, ref, cand, V, 0) == 0, "add");
    }
    struct tlb_acc_stats st;
    TLB_CHECK(tlb_acc_finish(&acc, &st) == 0, "finish");
    TLB_CHECK(st.n_pos == 10, "n_pos");
    TLB_CHECK_NEAR(st.top1, 0.5, 1e-12);
    TLB_CHECK_NEAR(st.max_logit_err, 2.5, 1e-6);
    TLB_CHECK(st.kld_mean > 0 && st.kld_p99 >= st.kld_median && st.kld_max >= st.kld_p99,
              "kld order");
    TLB_CHECK(st.ppl_tokens == 10 && st.ppl > 1 && st.ppl_ref > 1, "ppl");
    /* non-finite logits are an error, not a number */
    cand[0] = NAN;
    TLB_CHECK(tlb_acc_add(&acc, ref, cand, V, -1) == -1, "NaN accepted");
    tlb_acc_free(&acc);
    /* uniform logits: perplexity is the vocabulary size */
    tlb_acc_init(&acc);
    float u[V] = {0};
    for (int i = 0; i < 4; i++) tlb_acc_add(&acc, u, u, V, i);
    tlb_acc_finish(&acc, &st);
    TLB_CHECK_NEAR(st.ppl, (double)V, 1e-9);
    TLB_CHECK_NEAR(st.kld_mean, 0.0, 1e-15);
    tlb_acc_free(&acc);
    TLB_CHECK(tlb_acc_finish(&acc, &st) == -1, "empty accumulator");
}

static struct tlb_model *load(const char *spec, enum tlb_type t) {
    struct tlb_model *m = NULL;
    struct tlb_load_opts lo = {.spec = spec, .convert = 1, .wtype = t, .seed = 42, .n_threads = 1};
    return tlb_model_load(&m, &lo) == 0 ? m : NULL;
}

/* reference: f32 on naive, synthetic sequence */
static int make_ref(const char *spec, struct tlb_acc_ref_info *info) {
    struct tlb_model *m = load(spec, TLB_TYPE_F32);
    if (!m) return -1;
    int fd = tlb_acc_tmpfile();
    struct tlb_acc_source src = {.seed = 42, .n_threads = 1};
    if (fd >= 0 && tlb_acc_reference(m, tlb_kernel_find("naive"), &src, fd, info) != 0) {
        close(fd);
        fd = -1;
    }
    tlb_model_free(m);
    return fd;
}

TLB_TEST(f32_every_kernel_matches_naive) {
    struct tlb_acc_ref_info info;
    int fd = make_ref("synthetic:small", &info);
    TLB_CHECK(fd >= 0, "reference");
    TLB_CHECK(info.window == 128 && info.n_windows == 1 && !info.from_text, "window %d",
              info.window);
    struct tlb_model *m = load("synthetic:small", TLB_TYPE_F32);
    TLB_CHECK(m, "load");
    int tested = 0;
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *k = tlb_kernel_at(i);
        char why[256];
        if (tlb_kernel_usable(k, TLB_TYPE_F32, why, sizeof why) != 0) continue;
        struct tlb_acc_stats st;
        int rc = tlb_acc_compare(m, k, 1, fd, &st, NULL);
        TLB_CHECK(rc == 0, "%s: compare failed", k->name);
        TLB_CHECK(st.n_pos == 128, "%s: %zu positions", k->name, st.n_pos);
        TLB_CHECK(fabs(st.kld_mean) < 1e-6 && st.kld_max < 1e-5, "%s: KLD mean %g max %g",
                  k->name, st.kld_mean, st.kld_max);
        TLB_CHECK(st.top1 == 1.0, "%s: top-1 %.4f", k->name, st.top1);
        TLB_CHECK(st.ppl_tokens == 0, "%s: no perplexity without text", k->name);
        tested++;
    }
    TLB_CHECK(tested >= 1, "no usable kernel");
    tlb_model_free(m);
    close(fd);
}

TLB_TEST(quantized_kld_is_plausible) {
    struct tlb_acc_ref_info info;
    int fd = make_ref("synthetic:small", &info);
    TLB_CHECK(fd >= 0, "reference");
    double kld[2], top1[2];
    const enum tlb_type types[2] = {TLB_TYPE_Q8_0, TLB_TYPE_Q4_0};
    for (int i = 0; i < 2; i++) {
        struct tlb_model *m = load("synthetic:small", types[i]);
        TLB_CHECK(m, "load");
        char why[256];
        const struct tlb_kernel *k = tlb_kernel_select("auto", m->types_used, why, sizeof why);
        TLB_CHECK(k, "auto: %s", why);
        struct tlb_acc_stats st;
        int rc = tlb_acc_compare(m, k, 1, fd, &st, NULL);
        tlb_model_free(m);
        TLB_CHECK(rc == 0, "compare");
        kld[i] = st.kld_mean;
        top1[i] = st.top1;
        TLB_CHECK(st.max_logit_err > 0, "a quantized model differs somewhere");
    }
    close(fd);
    printf("# synthetic:small KLD q8_0 %.3g (top-1 %.1f%%), q4_0 %.3g (top-1 %.1f%%)\n", kld[0],
           100 * top1[0], kld[1], 100 * top1[1]);
    TLB_CHECK(kld[0] > 0 && kld[0] < kld[1], "q8_0 KLD %g should be below q4_0 %g", kld[0],
              kld[1]);
    TLB_CHECK(kld[1] < 1.0, "q4_0 KLD %g is implausibly large", kld[1]);
    TLB_CHECK(top1[0] >= top1[1] - 0.05 && top1[0] > 0.8, "top-1 q8_0 %g q4_0 %g", top1[0],
              top1[1]);
}

TLB_TEST(reference_file_is_checked) {
    int fd = tlb_acc_tmpfile();
    TLB_CHECK(fd >= 0, "tmpfile");
    TLB_CHECK(write(fd, "garbage that is not a reference file", 36) == 36, "write");
    struct tlb_model *m = load("synthetic:tiny", TLB_TYPE_F32);
    TLB_CHECK(m, "load");
    struct tlb_acc_stats st;
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", 1);
    dup2(devnull, 2);
    int rc = tlb_acc_compare(m, tlb_kernel_find("naive"), 1, fd, &st, NULL);
    dup2(saved, 2);
    close(saved);
    close(devnull);
    tlb_model_free(m);
    close(fd);
    TLB_CHECK(rc == -1, "a garbage reference was accepted");
}

TLB_TEST(stories260k_perplexity) {
    char mp[512], tp[512], xp[512];
    if (!tlb_test_data(mp, sizeof mp, "stories260K/stories260K.bin") ||
        !tlb_test_data(tp, sizeof tp, "stories260K/tok512.bin") ||
        !tlb_test_data(xp, sizeof xp, "text/tinystories_valid_head100k.txt"))
        TLB_SKIP("stories260K or text/tinystories_valid_head100k.txt absent in %s",
                 tlb_test_data_dir());
    struct tlb_model *m = load(mp, TLB_TYPE_F32);
    TLB_CHECK(m, "load");
    int fd = tlb_acc_tmpfile();
    struct tlb_acc_source src = {.text_path = xp, .tokenizer_path = tp, .window = 512,
                                 .chunks = 1, .n_threads = 1};
    struct tlb_acc_ref_info info;
    int rc = tlb_acc_reference(m, tlb_kernel_find("naive"), &src, fd, &info);
    TLB_CHECK(rc == 0, "reference");
    TLB_CHECK(info.from_text && info.window == 512 && info.n_windows == 1 &&
                  info.text_tokens > 10000,
              "info");
    struct tlb_acc_stats st;
    rc = tlb_acc_compare(m, tlb_kernel_find("naive"), 1, fd, &st, NULL);
    tlb_model_free(m);
    close(fd);
    TLB_CHECK(rc == 0, "compare");
    printf("# stories260K perplexity on the first 512 tokens: %.4f (%zu tokens scored)\n", st.ppl,
           st.ppl_tokens);
    TLB_CHECK(st.ppl_tokens == 511, "scored %zu", st.ppl_tokens);
    TLB_CHECK(st.ppl > 2.5 && st.ppl < 6.0, "perplexity %g outside 2.5..6", st.ppl);
    TLB_CHECK(fabs(st.ppl - st.ppl_ref) < 1e-6 * st.ppl, "same model, same perplexity");
}

TLB_TEST_MAIN()
