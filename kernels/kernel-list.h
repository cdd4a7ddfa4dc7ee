/* kernel-list.h — every kernel, one line each: TLB_KERNEL(name) refers to
 * `const struct tlb_kernel tlb_kernel_<name>` in kernels/<name>.c. Order is the listing order. */
TLB_KERNEL(naive)
TLB_KERNEL(tiled)
TLB_KERNEL(avx2)
TLB_KERNEL(avx512)
TLB_KERNEL(avx512x16)
TLB_KERNEL(openblas)
TLB_KERNEL(blis)
TLB_KERNEL(neon)
