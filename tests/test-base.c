/* test-base.c — the shared helpers of base/ that the harness and the engine use instead of
 * their own copies: the growable buffer, comma lists, number parsing with one error line,
 * suffixes and qsort comparators. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "test.h"
#include "util.h"

/* Run fn with stderr captured into err (one error line expected). */
static int capture(int (*fn)(void *), void *arg, char *err, size_t n) {
    tlb_test_capture_begin();
    int r = fn(arg);
    tlb_test_capture_end(err, n);
    return r;
}

TLB_TEST(buf_grows_and_stays_terminated) {
    struct tlb_buf b = {0};
    for (int i = 0; i < 1000; i++) TLB_CHECK(tlb_buf_printf(&b, "%d,", i) == 0, "printf %d", i);
    TLB_CHECK(b.len == strlen(b.p) && b.cap > b.len, "len %zu cap %zu", b.len, b.cap);
    TLB_CHECK(!strncmp(b.p, "0,1,2,", 6) && !strcmp(b.p + b.len - 4, "999,"), "content");
    TLB_CHECK(tlb_buf_add(&b, "\0x", 2) == 0 && b.len == strlen(b.p) + 2, "binary bytes kept");
    tlb_buf_clear(&b);
    TLB_CHECK(b.len == 0 && b.p && !b.p[0] && !b.failed, "clear");
    tlb_buf_free(&b);
    TLB_CHECK(!b.p && !b.len && !b.cap, "free");
}

TLB_TEST(buf_limit_is_sticky) {
    struct tlb_buf b = {.max = 10};
    TLB_CHECK(tlb_buf_puts(&b, "0123456789") == 0, "10 bytes fit a 10-byte limit");
    TLB_CHECK(tlb_buf_puts(&b, "x") == -1 && b.failed, "the 11th byte is refused");
    TLB_CHECK(tlb_buf_puts(&b, "") == -1 && b.len == 10, "later adds do nothing");
    tlb_buf_free(&b);
    TLB_CHECK(b.max == 10 && !b.failed, "free keeps the limit, forgets the failure");
}

TLB_TEST(split_list_trims_and_counts) {
    char s[] = " f32 , q8_0,\tq4_0 ,, x";
    char *it[8];
    int n = tlb_split_list(s, it, 8);
    TLB_CHECK(n == 5, "%d items", n);
    TLB_CHECK(!strcmp(it[0], "f32") && !strcmp(it[1], "q8_0") && !strcmp(it[2], "q4_0") &&
                  !strcmp(it[3], "") && !strcmp(it[4], "x"),
              "items '%s' '%s' '%s' '%s' '%s'", it[0], it[1], it[2], it[3], it[4]);
    char one[] = "";
    TLB_CHECK(tlb_split_list(one, it, 8) == 1 && !it[0][0], "empty text is one empty item");
    char many[] = "a,b,c";
    TLB_CHECK(tlb_split_list(many, it, 2) == -1, "more items than room");
    TLB_CHECK(tlb_list_has("rapl, hwmon ,papi", "hwmon") && tlb_list_has("a,b", "b") &&
                  !tlb_list_has("hwmon2,xhwmon", "hwmon") && !tlb_list_has("ab", "a"),
              "tlb_list_has matches whole trimmed items only");
}

struct parse_call {
    const char *text;
    long v;
};
static int parse_int(void *arg) {
    struct parse_call *c = arg;
    return tlb_parse_int_msg("-t", c->text, 1, 8, &c->v);
}

TLB_TEST(number_parsing_names_the_value) {
    char err[256];
    struct parse_call c = {"4", 0};
    TLB_CHECK(capture(parse_int, &c, err, sizeof err) == 0 && c.v == 4 && !err[0], "4: %s", err);
    const char *bad[] = {"9", "0", "4x", "", "-1"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad); i++) {
        c.text = bad[i];
        TLB_CHECK(capture(parse_int, &c, err, sizeof err) == -1, "'%s' accepted", bad[i]);
        char want[64];
        snprintf(want, sizeof want, "-t: '%s' is not an integer in [1, 8]\n", bad[i]);
        TLB_CHECK(strstr(err, want) && strchr(err, '\n') == strrchr(err, '\n'), "'%s': %s",
                  bad[i], err);
    }
    double d;
    uint64_t u;
    TLB_CHECK(tlb_parse_double_msg("x", "2.5", 0, 3, &d) == 0 && d == 2.5, "double");
    TLB_CHECK(tlb_parse_u64_msg("x", "18446744073709551615", &u) == 0 && u == UINT64_MAX, "u64");
}

TLB_TEST(suffix_and_comparators) {
    TLB_CHECK(tlb_ends_with("a.conf", ".conf") && !tlb_ends_with("conf", ".conf") &&
                  tlb_ends_with("x", ""),
              "tlb_ends_with");
    double v[] = {3, -1, 2, 2};
    qsort(v, 4, sizeof v[0], tlb_cmp_double);
    TLB_CHECK(v[0] == -1 && v[1] == 2 && v[2] == 2 && v[3] == 3, "doubles sorted");
    const char *s[] = {"b", "a", "c"};
    qsort(s, 3, sizeof s[0], tlb_cmp_strp);
    TLB_CHECK(!strcmp(s[0], "a") && !strcmp(s[2], "c"), "strings sorted");
}

TLB_TEST_MAIN()
