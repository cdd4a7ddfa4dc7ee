# accuracy-memory.gp - written by tlbench report. Data: accuracy-memory.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot accuracy-memory.gp'.
set terminal pngcairo size 1100,640 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'accuracy-memory.png'
reset
set encoding utf8
set datafile separator "\t"
set border 3 lc rgb '#606060'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#e3e3e3' lw 1 dt 1
set key noopaque nobox font ',9' samplen 2 spacing 1.1
set style fill solid 0.88 border rgb '#404040'
set style line 1 lc rgb '#4E79A7' lw 2 pt 7 ps 1.1
set style line 2 lc rgb '#F28E2B' lw 2 pt 5 ps 1.1
set style line 3 lc rgb '#59A14F' lw 2 pt 9 ps 1.1
set style line 4 lc rgb '#E15759' lw 2 pt 13 ps 1.1
set style line 5 lc rgb '#B07AA1' lw 2 pt 11 ps 1.1
set style line 6 lc rgb '#76B7B2' lw 2 pt 15 ps 1.1
set style line 7 lc rgb '#EDC948' lw 2 pt 6 ps 1.1
set style line 8 lc rgb '#FF9DA7' lw 2 pt 4 ps 1.1
set style line 9 lc rgb '#9C755F' lw 2 pt 7 ps 1.1
set style line 10 lc rgb '#BAB0AC' lw 2 pt 5 ps 1.1
set multiplot layout 1,1 title 'Accuracy vs memory: the quantization trade-off'."\n".'x86-avx512-server (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | KL divergence vs the f32 reference | KV f32 | shortest context | 2026-12-06 | tlbench 0.1.0' font ',12'
set logscale y 10
set ytics ('0 (= f32)' 1e-14, '1e-13' 1e-13, '1e-12' 1e-12, '1e-11' 1e-11, '1e-10' 1e-10, '1e-9' 1e-9, '1e-8' 1e-8, '1e-7' 1e-7, '1e-6' 1e-6, '1e-5' 1e-5, '1e-4' 1e-4, '1e-3' 1e-3, '1e-2' 1e-2, '1e-1' 1e-1)
set yrange [4e-15:0.1]
set xrange [0:4.98063]
set xlabel 'peak memory at the shortest context (GiB)'
set ylabel 'mean KL divergence vs f32 (nats, log scale)'
set grid xtics ytics lc rgb '#e3e3e3'
set key inside top right
set label 90 'better: less memory, closer to f32 (lower left)' at graph 0.02, graph 0.04 left tc rgb '#777777' font ',9'
plot 'accuracy-memory.tsv' index 0 using 1:2:3:4 with yerrorlines ls 1 title 'x86-avx512-server (AMD EPYC)', \
     'accuracy-memory.tsv' index 0 using 1:2:5 with labels offset char 1.2,0.7 left font ',9' tc ls 1 notitle
unset multiplot
unset output
set terminal svg size 1100,640 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'accuracy-memory.svg'
reset
set encoding utf8
set datafile separator "\t"
set border 3 lc rgb '#606060'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#e3e3e3' lw 1 dt 1
set key noopaque nobox font ',9' samplen 2 spacing 1.1
set style fill solid 0.88 border rgb '#404040'
set style line 1 lc rgb '#4E79A7' lw 2 pt 7 ps 1.1
set style line 2 lc rgb '#F28E2B' lw 2 pt 5 ps 1.1
set style line 3 lc rgb '#59A14F' lw 2 pt 9 ps 1.1
set style line 4 lc rgb '#E15759' lw 2 pt 13 ps 1.1
set style line 5 lc rgb '#B07AA1' lw 2 pt 11 ps 1.1
set style line 6 lc rgb '#76B7B2' lw 2 pt 15 ps 1.1
set style line 7 lc rgb '#EDC948' lw 2 pt 6 ps 1.1
set style line 8 lc rgb '#FF9DA7' lw 2 pt 4 ps 1.1
set style line 9 lc rgb '#9C755F' lw 2 pt 7 ps 1.1
set style line 10 lc rgb '#BAB0AC' lw 2 pt 5 ps 1.1
set multiplot layout 1,1 title 'Accuracy vs memory: the quantization trade-off'."\n".'x86-avx512-server (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | KL divergence vs the f32 reference | KV f32 | shortest context | 2026-12-06 | tlbench 0.1.0' font ',12'
set logscale y 10
set ytics ('0 (= f32)' 1e-14, '1e-13' 1e-13, '1e-12' 1e-12, '1e-11' 1e-11, '1e-10' 1e-10, '1e-9' 1e-9, '1e-8' 1e-8, '1e-7' 1e-7, '1e-6' 1e-6, '1e-5' 1e-5, '1e-4' 1e-4, '1e-3' 1e-3, '1e-2' 1e-2, '1e-1' 1e-1)
set yrange [4e-15:0.1]
set xrange [0:4.98063]
set xlabel 'peak memory at the shortest context (GiB)'
set ylabel 'mean KL divergence vs f32 (nats, log scale)'
set grid xtics ytics lc rgb '#e3e3e3'
set key inside top right
set label 90 'better: less memory, closer to f32 (lower left)' at graph 0.02, graph 0.04 left tc rgb '#777777' font ',9'
plot 'accuracy-memory.tsv' index 0 using 1:2:3:4 with yerrorlines ls 1 title 'x86-avx512-server (AMD EPYC)', \
     'accuracy-memory.tsv' index 0 using 1:2:5 with labels offset char 1.2,0.7 left font ',9' tc ls 1 notitle
unset multiplot
unset output
