/* power-list.h — every power backend, one line each, in the order `tlbench info` lists them:
 * TLB_POWER(name, on_request) refers to `const struct tlb_power_backend
 * tlb_power_backend_<name>` in power-<name>.c. "auto" tries the others in this order;
 * an on_request backend (the external meter) is tried only when asked for (--power-cmd,
 * --power meter). */
TLB_POWER(meter, 1)
TLB_POWER(rapl, 0)
TLB_POWER(jetson, 0)
TLB_POWER(rpi, 0)
TLB_POWER(hwmon, 0)
TLB_POWER(papi, 0)
