/* chart-list.h — every chart of a report, one line each, in the order the summary shows them:
 * TLB_CHART(fn, file, needs_rows, skip_note). chart_<fn>(struct gp *) in charts.c writes
 * DIR/charts/<file>.gp and .tsv and returns 1, or returns 0 when the data does not allow the
 * chart; the summary then says skip_note (or the note the function set, for a reason only it
 * knows). needs_rows 0: drawn even when no row of the results was measured. */
TLB_CHART(decode_threads, "decode-threads", 1, NULL)
TLB_CHART(prefill_threads, "prefill-threads", 1, NULL)
TLB_CHART(quant_kernel, "quant-kernel", 1, NULL)
TLB_CHART(depth, "decode-depth", 1,
          "Decode vs context depth: only one context depth was measured (sweep with --ctx "
          "0,512,1536 to see the effect of long contexts).")
TLB_CHART(memory, "memory", 1, "Peak memory: no row has peak_rss_bytes.")
TLB_CHART(accuracy, "accuracy-memory", 1,
          "Accuracy vs memory: no row has a KL divergence (the sweep ran with --no-accuracy).")
TLB_CHART(energy, "energy", 1,
          "Energy: no row has power measurements (power_source none on every board: no "
          "RAPL/hwmon/INA3221/PMIC access, or a VM), so energy per token and tokens per joule "
          "cannot be charted. On a board with a sensor, run the sweep with access to it (see "
          "tlbench info), or give an external meter with --power-cmd.")
TLB_CHART(roofline, "kernels-roofline", 0, NULL)
