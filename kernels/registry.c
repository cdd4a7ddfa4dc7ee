/* registry.c — the list of kernels (kernel-list.h) and selection by name or "auto". */
#include <stdio.h>
#include <string.h>

#include "kernel.h"

#define TLB_KERNEL(n) extern const struct tlb_kernel tlb_kernel_##n;
#include "kernel-list.h"
#undef TLB_KERNEL

static const struct tlb_kernel *const kernels[] = {
#define TLB_KERNEL(n) &tlb_kernel_##n,
#include "kernel-list.h"
#undef TLB_KERNEL
};

int tlb_kernel_count(void) { return (int)(sizeof kernels / sizeof kernels[0]); }

const struct tlb_kernel *tlb_kernel_at(int i) {
    return i >= 0 && i < tlb_kernel_count() ? kernels[i] : NULL;
}

const struct tlb_kernel *tlb_kernel_find(const char *name) {
    for (int i = 0; i < tlb_kernel_count(); i++)
        if (name && strcmp(kernels[i]->name, name) == 0) return kernels[i];
    return NULL;
}

static int usable_mask(const struct tlb_kernel *k, uint32_t types, char *why, size_t n) {
    if (k->probe && k->probe(why, n) != 0) return -1;
    uint32_t missing = types & ~k->wtypes;
    if (missing) {
        for (int t = 0; t < TLB_TYPE_COUNT; t++) {
            if (missing & TLB_TYPE_BIT(t)) {
                snprintf(why, n, "kernel '%s' does not support %s weights", k->name,
                         tlb_type_traits((enum tlb_type)t)->name);
                break;
            }
        }
        return -1;
    }
    return 0;
}

int tlb_kernel_usable(const struct tlb_kernel *k, enum tlb_type t, char *why, size_t why_len) {
    return usable_mask(k, TLB_TYPE_BIT(t), why, why_len);
}

const struct tlb_kernel *tlb_kernel_select(const char *name, uint32_t types, char *why,
                                           size_t why_len) {
    char tmp[256];
    if (!name || strcmp(name, "auto") == 0) {
        const struct tlb_kernel *best = NULL;
        for (int i = 0; i < tlb_kernel_count(); i++) {
            if (usable_mask(kernels[i], types, tmp, sizeof tmp) == 0 &&
                (!best || kernels[i]->priority > best->priority))
                best = kernels[i];
        }
        if (!best) snprintf(why, why_len, "no usable kernel for these weight types");
        return best;
    }
    const struct tlb_kernel *k = tlb_kernel_find(name);
    if (!k) {
        int off = snprintf(why, why_len, "unknown kernel '%s' (known:", name);
        for (int i = 0; i < tlb_kernel_count() && off > 0 && (size_t)off < why_len; i++)
            off += snprintf(why + off, why_len - (size_t)off, " %s", kernels[i]->name);
        if (off > 0 && (size_t)off < why_len) snprintf(why + off, why_len - (size_t)off, ")");
        return NULL;
    }
    if (usable_mask(k, types, why, why_len) != 0) return NULL;
    return k;
}
