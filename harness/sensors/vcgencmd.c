/* vcgencmd.c — locating and running the Raspberry Pi `vcgencmd` tool and parsing its
 * pmic_read_adc and get_throttled outputs (see vcgencmd.h). */
#include "vcgencmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runcmd.h"
#include "sysfs.h"

int tlb_vcgencmd_resolve(const char *root, const char *override, char *buf, size_t n,
                         char *why, size_t why_len) {
    if (override && override[0]) {
        snprintf(buf, n, "%s", override);
        return 0;
    }
    if (root && root[0]) {
        char p[TLB_PATH_MAX];
        struct stat st;
        if (tlb_sysfs_path(p, sizeof p, root, "/usr/bin/vcgencmd") == 0 && stat(p, &st) == 0 &&
            S_ISREG(st.st_mode)) {
            buf[0] = '\0';
            /* a fake tree may have lost its exec bit in a copy: run it through sh then */
            if (access(p, X_OK) != 0) snprintf(buf, n, "sh ");
            if (tlb_shell_quote_append(buf, n, p) == 0) return 0;
        }
        snprintf(why, why_len, "no usr/bin/vcgencmd in %s", root);
        return -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char p[TLB_PATH_MAX];
        if (len > 0 && len + 11 < sizeof p) {
            snprintf(p, sizeof p, "%.*s/vcgencmd", (int)len, path);
            if (access(p, X_OK) == 0) {
                buf[0] = '\0';
                if (tlb_shell_quote_append(buf, n, p) == 0) return 0;
            }
        }
        path += len;
        if (*path == ':') path++;
    }
    snprintf(why, why_len, "vcgencmd not found on PATH (not a Raspberry Pi?)");
    return -1;
}

int tlb_vcgencmd_run(const char *cmd, const char *args, char *out, size_t n, char *why,
                     size_t why_len) {
    char full[2048];
    if (snprintf(full, sizeof full, "%s %s", cmd, args) >= (int)sizeof full) {
        snprintf(why, why_len, "vcgencmd command too long");
        return -1;
    }
    return tlb_run_capture(full, 1000, out, n, why, why_len);
}

#define MAX_RAILS 32

struct rail {
    char name[40];
    double amps, volts;
    int have; /* bit 0 current, bit 1 voltage */
};

static struct rail *find_rail(struct rail *r, int *n, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(r[i].name, name)) return &r[i];
    if (*n == MAX_RAILS) return NULL;
    memset(&r[*n], 0, sizeof r[*n]);
    snprintf(r[*n].name, sizeof r[*n].name, "%s", name);
    return &r[(*n)++];
}

int tlb_pmic_parse(const char *text, double *watts, char *why, size_t why_len) {
    struct rail rails[MAX_RAILS];
    int n = 0, lineno = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        lineno++;
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\0') continue;
        /* "<RAIL>_A current(<i>)=<x>A" or "<RAIL>_V volt(<i>)=<x>V" */
        size_t tok = strcspn(p, " \t\n");
        const char *eq = strchr(p, '=');
        const char *nl = strchr(p, '\n');
        if (!eq || (nl && eq > nl) || tok < 3 || tok >= 40) continue;
        int is_current = strncmp(p + tok, " current(", 9) == 0;
        int is_volt = strncmp(p + tok, " volt(", 6) == 0;
        if (!is_current && !is_volt) continue;
        char name[40];
        memcpy(name, p, tok);
        name[tok] = '\0';
        size_t nl_ = strlen(name);
        if (nl_ < 3 || name[nl_ - 2] != '_' || (name[nl_ - 1] != 'A' && name[nl_ - 1] != 'V'))
            continue;
        name[nl_ - 2] = '\0';
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        char unit = is_current ? 'A' : 'V';
        if (errno || end == eq + 1 || *end != unit || !(v >= 0) || v > 1000) {
            snprintf(why, why_len, "pmic_read_adc line %d: malformed value for %s", lineno, name);
            return -1;
        }
        struct rail *r = find_rail(rails, &n, name);
        if (!r) continue;
        if (is_current) {
            r->amps = v;
            r->have |= 1;
        } else {
            r->volts = v;
            r->have |= 2;
        }
    }
    double sum = 0;
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (rails[i].have != 3) continue;
        sum += rails[i].amps * rails[i].volts;
        used++;
    }
    if (!used) {
        snprintf(why, why_len, "pmic_read_adc printed no rail with both current and voltage "
                               "(old firmware or not a Pi 5?)");
        return -1;
    }
    *watts = sum;
    return used;
}

int tlb_throttled_parse(const char *text, unsigned *bits, char *why, size_t why_len) {
    const char *p = strstr(text, "throttled=");
    if (!p) {
        snprintf(why, why_len, "get_throttled printed no 'throttled=' value");
        return -1;
    }
    p += 10;
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 16);
    if (errno || end == p || (*end && !isspace((unsigned char)*end)) || v > 0xffffffffUL) {
        snprintf(why, why_len, "get_throttled value is not hexadecimal");
        return -1;
    }
    *bits = (unsigned)v;
    return 0;
}

void tlb_throttled_describe(unsigned bits, char *buf, size_t n) {
    static const char *const names[4] = {"under-voltage", "ARM frequency capped", "throttled",
                                         "soft temperature limit"};
    unsigned any = (bits | bits >> 16) & 0xf;
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++) {
        if (!(any & (1u << i))) continue;
        int w = snprintf(buf + off, n - off, "%s%s", off ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= n - off) break;
        off += (size_t)w;
    }
    if (!off) snprintf(buf, n, "none");
}
