/* cmd-eval.c — `tlbench eval`: accuracy of one weight type on one kernel against the same
 * model in f32 on the reference kernel, teacher forced on the same tokens, printed like
 * llama-perplexity's KL-divergence summary (Mean KLD, 99.0% KLD, Same top p, max logit
 * error, PPL). Runs in-process: the reference logits go to a temporary file, the f32 model
 * is freed, then the candidate is loaded and compared window by window. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "command.h"
#include "memory-model.h"
#include "model.h"
#include "runner.h"
#include "threadpool.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench eval --model M [--quant T] [--kernel K] [--eval-text F]\n"
        "                    [--tokenizer T] [--ctx N] [--chunks N] [-t N] [--acc-ref K]\n"
        "                    [--seed N]\n\n"
        "Compares the model converted to --quant on --kernel with the same model in f32 on\n"
        "the reference kernel, on the same tokens (teacher forced, one all-logits forward per\n"
        "window): KL divergence KL(reference || candidate) of every position's next-token\n"
        "distribution (computed in double), top-1 agreement, largest logit error, and with a\n"
        "text the perplexity of both (every token after the first of each window scored).\n\n"
        "  --model M        model file or synthetic:NAME (required)\n"
        "  --quant T        candidate weight type: f32 f16 bf16 q8_0 q4_0 (default q4_0)\n"
        "  --kernel K       candidate kernel, or auto (default)\n"
        "  --eval-text F    text to evaluate on, tokenized with BOS and cut into consecutive\n"
        "                   windows; without it: BOS + seeded tokens for the first half of\n"
        "                   one window, then the reference's own greedy continuation\n"
        "  --tokenizer T    tokenizer for the text (default: the model's, if GGUF)\n"
        "  --ctx N          window length (default: text: the model's context; else 128)\n"
        "  --chunks N       windows to use (default: text: all; else 1)\n"
        "  -t, --threads N  threads (default: all CPUs)\n"
        "  --acc-ref K      reference kernel (default naive; for models over 100M\n"
        "                   parameters the fastest f32 kernel unless given)\n"
        "  --seed N         seed of synthetic weights and of the synthetic prompt (default 42)\n");
}

static int load(struct tlb_model **m, const char *spec, enum tlb_type t, uint64_t seed,
                int threads) {
    struct tlb_load_opts lo = {.spec = spec, .convert = 1, .wtype = t, .seed = seed,
                               .n_threads = threads};
    return tlb_model_load(m, &lo);
}

/* Refuse early when the f32 reference cannot fit (built-in shapes only: files are checked
 * by their loader). */
static int fits(const char *spec) {
    struct tlb_config c;
    if (strncmp(spec, "synthetic:", 10) || tlb_synthetic_config(spec + 10, &c) != 0) return 1;
    long long need = (long long)tlb_mem_weights(&c, TLB_TYPE_F32, 0), avail = tlb_mem_available();
    if (avail >= 0 && need > avail - tlb_mem_margin()) {
        char a[32], b[32];
        tlb_error("eval: the f32 reference needs %s, MemAvailable is %s",
                  tlb_format_size((uint64_t)need, a, sizeof a),
                  tlb_format_size((uint64_t)avail, b, sizeof b));
        return 0;
    }
    return 1;
}

int tlb_cmd_eval(int argc, char **argv) {
    enum { O_MODEL = 1000, O_QUANT, O_KERNEL, O_TEXT, O_TOK, O_CTX, O_CHUNKS, O_REF, O_SEED,
           O_HELP };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL},   {"quant", required_argument, 0, O_QUANT},
        {"kernel", required_argument, 0, O_KERNEL}, {"eval-text", required_argument, 0, O_TEXT},
        {"tokenizer", required_argument, 0, O_TOK}, {"ctx", required_argument, 0, O_CTX},
        {"chunks", required_argument, 0, O_CHUNKS}, {"threads", required_argument, 0, 't'},
        {"acc-ref", required_argument, 0, O_REF},   {"seed", required_argument, 0, O_SEED},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
    const char *spec = NULL, *kname = "auto", *text = NULL, *tok = NULL, *ref_name = NULL;
    enum tlb_type wtype = TLB_TYPE_Q4_0;
    long window = 0, chunks = 0, threads = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t seed = 42;
    if (threads < 1) threads = 1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: spec = optarg; break;
        case O_QUANT:
            if (tlb_type_from_name_msg("--quant", optarg, &wtype)) return TLB_EXIT_USAGE;
            break;
        case O_KERNEL: kname = optarg; break;
        case O_TEXT: text = optarg; break;
        case O_TOK: tok = optarg; break;
        case O_CTX:
            if (tlb_parse_int_msg("--ctx", optarg, 2, 1 << 20, &window)) return TLB_EXIT_USAGE;
            break;
        case O_CHUNKS:
            if (tlb_parse_int_msg("--chunks", optarg, 1, 1 << 20, &chunks)) return TLB_EXIT_USAGE;
            break;
        case 't':
            if (tlb_parse_int_msg("--threads", optarg, 1, TLB_MAX_THREADS, &threads))
                return TLB_EXIT_USAGE;
            break;
        case O_REF: ref_name = optarg; break;
        case O_SEED: if (tlb_parse_u64_msg("--seed", optarg, &seed)) return TLB_EXIT_USAGE; break;
        case O_HELP: usage(stdout); return TLB_EXIT_OK;
        case ':':
            tlb_error("eval: option %s needs a value", argv[optind - 1]);
            return TLB_EXIT_USAGE;
        default:
            tlb_error("eval: unknown option '%s' (see 'tlbench eval --help')", argv[optind - 1]);
            return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("eval: unexpected argument '%s'", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!spec) {
        tlb_error("eval: --model is required (e.g. --model synthetic:tiny)");
        return TLB_EXIT_USAGE;
    }
    if (tok && !text) {
        tlb_error("eval: --tokenizer is only used with --eval-text");
        return TLB_EXIT_USAGE;
    }
    char why[256];
    if (strcmp(kname, "auto") && !tlb_kernel_find(kname)) {
        tlb_kernel_select(kname, 0, why, sizeof why);
        tlb_error("--kernel: %s", why);
        return TLB_EXIT_USAGE;
    }
    if (ref_name && !tlb_kernel_find(ref_name)) {
        tlb_error("--acc-ref: unknown kernel '%s'", ref_name);
        return TLB_EXIT_USAGE;
    }
    if (!fits(spec)) return TLB_EXIT_FAIL;

    int rc = TLB_EXIT_FAIL, fd = -1;
    struct tlb_model *m = NULL;
    if (load(&m, spec, TLB_TYPE_F32, seed, (int)threads) != 0) goto out;
    const char *rn = ref_name ? ref_name
                              : tlb_model_n_params(m) > 100000000ull ? "auto" : "naive";
    const struct tlb_kernel *rk =
        tlb_kernel_select(rn, TLB_TYPE_BIT(TLB_TYPE_F32) | m->types_used, why, sizeof why);
    if (!rk) {
        tlb_error("--acc-ref %s: %s", rn, why);
        rc = TLB_EXIT_USAGE;
        goto out;
    }
    if (window > m->cfg.seq_len) {
        tlb_error("--ctx %ld exceeds the model's context of %d tokens", window, m->cfg.seq_len);
        rc = TLB_EXIT_USAGE;
        goto out;
    }
    if ((fd = tlb_acc_tmpfile()) < 0) goto out;
    struct tlb_acc_source src = {.text_path = text, .tokenizer_path = tok,
                                 .model_path = m->path[0] ? m->path : NULL, .window = (int)window,
                                 .chunks = (int)chunks, .seed = seed, .n_threads = (int)threads};
    struct tlb_acc_ref_info info;
    int synthetic = !strcmp(m->format, "synthetic");
    char model_name[128];
    snprintf(model_name, sizeof model_name, "%s", m->name);
    int64_t t0 = tlb_now_ns();
    if (tlb_acc_reference(m, rk, &src, fd, &info) != 0) goto out;
    double ref_s = (double)(tlb_now_ns() - t0) / 1e9;
    if (wtype != TLB_TYPE_F32) {
        tlb_model_free(m);
        m = NULL;
        if (load(&m, spec, wtype, seed, (int)threads) != 0) goto out;
    }
    const struct tlb_kernel *k = tlb_kernel_select(kname, m->types_used, why, sizeof why);
    if (!k) {
        tlb_error("--kernel %s: %s", kname, why);
        goto out;
    }
    if (tlb_model_set_layouts(m, k) < 0) goto out;
    struct tlb_acc_stats a;
    t0 = tlb_now_ns();
    if (tlb_acc_compare(m, k, (int)threads, fd, &a, &info) != 0) goto out;
    double cand_s = (double)(tlb_now_ns() - t0) / 1e9;

    printf("tlbench eval: %s %s on %s (%ld thread%s) vs f32 on %s (reference)\n", model_name,
           tlb_type_traits(wtype)->name, k->name, threads, threads == 1 ? "" : "s", rk->name);
    if (info.from_text)
        printf("evaluation: %d window%s of %d tokens from %s (%zu tokens, tokenized with BOS; "
               "windows are consecutive, only the first starts with BOS)\n",
               info.n_windows, info.n_windows == 1 ? "" : "s", info.window, text,
               info.text_tokens);
    else
        printf("evaluation: %d positions: BOS + %d seeded tokens (seed %llu), then the "
               "reference's greedy continuation\n",
               info.window, info.window / 2 - 1, (unsigned long long)seed);
    printf("scored: KL divergence, top-1 and logit error at all %zu positions", a.n_pos);
    if (info.from_text)
        printf("; perplexity over %zu tokens (every token after the first of each window)",
               a.ppl_tokens);
    printf("\ntime: reference %.2f s, candidate %.2f s\n", ref_s, cand_s);
    if (info.from_text && !synthetic) {
        printf("\n====== Perplexity statistics ======\n");
        printf("Mean PPL(Q)                   : %10.6f ± %10.6f\n", a.ppl, a.ppl_unc);
        printf("Mean PPL(base)                : %10.6f\n", a.ppl_ref);
        printf("Mean PPL(Q)/PPL(base)         : %10.6f\n", a.ppl / a.ppl_ref);
    } else if (info.from_text) {
        printf("\n(perplexity not shown: the weights of a synthetic model are random)\n");
    }
    printf("\n====== KL divergence statistics ======\n");
    printf("Mean    KLD: %12.6g ± %10.4g\n", a.kld_mean, a.kld_mean_unc);
    printf("Maximum KLD: %12.6g\n", a.kld_max);
    printf("99.0%%   KLD: %12.6g\n", a.kld_p99);
    printf("90.0%%   KLD: %12.6g\n", a.kld_p90);
    printf("Median  KLD: %12.6g\n", a.kld_median);
    printf("Minimum KLD: %12.6g\n", a.kld_min);
    printf("\n====== Token probability statistics ======\n");
    printf("Same top p: %7.3f ± %6.3f %%\n", 100 * a.top1, 100 * a.top1_unc);
    printf("Max logit error: %.6g\n", a.max_logit_err);
    rc = TLB_EXIT_OK;
out:
    if (fd >= 0) close(fd);
    tlb_model_free(m);
    return rc;
}
